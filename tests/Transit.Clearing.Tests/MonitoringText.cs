using System.Text.RegularExpressions;
using Xunit;

namespace Transit.Tests.Monitoring;

/// <summary>Reads the Prometheus text format.</summary>
public static partial class PrometheusText
{
    /// <summary>Each sample line's series (name and labels as written) and value.</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }

        return samples;
    }

    /// <summary>Whether some sample is of the metric <paramref name="name"/> (a histogram's or summary's series included).</summary>
    public static bool Exports(string text, string name) =>
        Parse(text).Keys.Any(series => series == name || series.StartsWith(name + "{", StringComparison.Ordinal)
            || Suffixes().IsMatch(series.Length > name.Length && series.StartsWith(name, StringComparison.Ordinal) ? series[name.Length..] : "!"));

    [GeneratedRegex(@"^_(bucket|sum|count)(\{|$)")]
    private static partial Regex Suffixes();
}

/// <summary>The example Prometheus alerting rules of docs/operations.md.</summary>
public static partial class AlertRules
{
    public static string Read()
    {
        var guide = File.ReadAllText(Repository.PathOf("docs", "operations.md"));
        var start = guide.IndexOf("```yaml\ngroups:", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/operations.md has no ```yaml block of alerting rules (groups:)");
        var end = guide.IndexOf("```", start + 7, StringComparison.Ordinal);
        return guide[(start + 8)..end];
    }

    /// <summary>The metric names in the rules' expressions.</summary>
    public static IReadOnlyList<string> MetricNames(string rules) =>
        [.. Expressions().Matches(rules).SelectMany(m => MetricName().Matches(m.Groups[1].Value)).Select(m => m.Value).Distinct()];


    [GeneratedRegex(@"expr:\s*(.+)")]
    private static partial Regex Expressions();

    // Every metric of the project and of the libraries it exports through starts with one of these.
    [GeneratedRegex(@"\b(transit|process|dotnet|microsoft|npgsql|system)_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
