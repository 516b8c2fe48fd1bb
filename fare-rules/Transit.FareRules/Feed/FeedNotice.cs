namespace Transit.FareRules;

/// <summary>How serious a notice is.</summary>
public enum NoticeSeverity
{
    /// <summary>The feed is usable but something is doubtful or not as the specification recommends.</summary>
    Warning = 0,

    /// <summary>The feed breaks the specification; prices computed from it may be wrong.</summary>
    Error = 1,
}

/// <summary>One problem found in a feed.</summary>
/// <param name="File">The file, e.g. <c>fare_transfer_rules.txt</c>.</param>
/// <param name="Line">The line in the file (1-based; the header is line 1); 0 when the notice concerns the whole file.</param>
/// <param name="Code">A stable snake_case code, one of <see cref="NoticeCodes"/>.</param>
/// <param name="Severity">Error or warning.</param>
/// <param name="Message">What is wrong, naming the field and value.</param>
public sealed record FeedNotice(string File, int Line, string Code, NoticeSeverity Severity, string Message)
{
    /// <summary>One line for people: <c>ERROR fare_products.txt:3 invalid_currency_amount: ...</c>.</summary>
    /// <returns>The formatted notice.</returns>
    public override string ToString() =>
        $"{(Severity == NoticeSeverity.Error ? "ERROR" : "WARNING")} {File}{(Line > 0 ? $":{Line}" : "")} {Code}: {Message}";
}

/// <summary>The result of checking a feed: every notice, in file and line order.</summary>
public sealed class FeedCheckReport
{
    /// <summary>Creates a report from notices; they are sorted by file, line and code.</summary>
    /// <param name="notices">The notices.</param>
    public FeedCheckReport(IEnumerable<FeedNotice> notices)
    {
        ArgumentNullException.ThrowIfNull(notices);
        Notices = [.. notices.OrderBy(n => n.File, StringComparer.Ordinal).ThenBy(n => n.Line).ThenBy(n => n.Code, StringComparer.Ordinal)];
        ErrorCount = Notices.Count(n => n.Severity == NoticeSeverity.Error);
        WarningCount = Notices.Count - ErrorCount;
    }

    /// <summary>All notices.</summary>
    public IReadOnlyList<FeedNotice> Notices { get; }

    /// <summary>How many notices are errors.</summary>
    public int ErrorCount { get; }

    /// <summary>How many notices are warnings.</summary>
    public int WarningCount { get; }

    /// <summary>Whether any notice is an error.</summary>
    public bool HasErrors => ErrorCount > 0;

    /// <summary>The notices with code <paramref name="code"/>.</summary>
    /// <param name="code">A notice code.</param>
    /// <returns>The matching notices.</returns>
    public IEnumerable<FeedNotice> WithCode(string code) => Notices.Where(n => n.Code == code);
}

/// <summary>Thrown by <see cref="FareFeed.LoadOrThrow"/> when a feed has errors.</summary>
public sealed class FareFeedException : Exception
{
    /// <summary>Creates the exception for a report with errors.</summary>
    /// <param name="report">The check report.</param>
    public FareFeedException(FeedCheckReport report)
        : base(Describe(report))
    {
        Report = report;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What went wrong.</param>
    public FareFeedException(string message)
        : base(message)
    {
        Report = new FeedCheckReport([]);
    }

    /// <summary>Creates the exception with a message and inner exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The cause.</param>
    public FareFeedException(string message, Exception inner)
        : base(message, inner)
    {
        Report = new FeedCheckReport([]);
    }

    /// <summary>Creates the exception with no message.</summary>
    public FareFeedException()
        : this("the fare feed is invalid")
    {
    }

    /// <summary>The report whose errors caused the exception.</summary>
    public FeedCheckReport Report { get; }

    private static string Describe(FeedCheckReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var first = report.Notices.FirstOrDefault(n => n.Severity == NoticeSeverity.Error);
        return $"the fare feed has {report.ErrorCount} error(s){(first is null ? "" : $"; first: {first}")}";
    }
}
