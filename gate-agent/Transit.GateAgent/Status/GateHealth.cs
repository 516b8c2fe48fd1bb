using System.Globalization;
using Transit.DeviceApi;

namespace Transit.GateAgent.Status;

/// <summary>
/// What is wrong with the gate that staff must see without reading logs: uploads or sync failing again and again,
/// clearing refusing the device, the journal's disk nearly or completely full. Any of it lights the amber idle light,
/// turns /health <c>degraded</c> (or <c>alarm</c> for a refused device) and goes into the status heartbeat; each
/// clears by itself once the cause is gone.
/// </summary>
public sealed class GateHealth(int alarmAfterFailures = 3)
{
    /// <summary>Longest message kept for a link error (the heartbeat's limit).</summary>
    public const int MaxMessageLength = 500;

    private readonly Lock _lock = new();
    private readonly LinkTracker _upload = new();
    private readonly LinkTracker _sync = new();
    private string? _refusal;
    private string? _diskLow;
    private string? _journalFull;
    private long _diskFreeBytes = -1;

    /// <summary>Raised (outside any lock) whenever the amber state or a reported problem changes.</summary>
    public event Action? Changed;

    /// <summary>The upload link's error once it has failed <c>alarmAfterFailures</c> times in a row; null otherwise.</summary>
    public LinkError? UploadError => Read(_upload);

    /// <summary>The sync link's error once it has failed repeatedly; null otherwise.</summary>
    public LinkError? SyncError => Read(_sync);

    /// <summary>Clearing refuses the device (403) or reports conflicting taps (409); null otherwise.</summary>
    public string? Refusal
    {
        get
        {
            lock (_lock)
            {
                return _refusal;
            }
        }
    }

    /// <summary>Free bytes in the journal's file system at the last check; -1 before the first.</summary>
    public long DiskFreeBytes => Interlocked.Read(ref _diskFreeBytes);

    /// <summary>Whether the amber idle light should show.</summary>
    public bool Amber => Problems().Count > 0;

    /// <summary><c>ok</c>, <c>degraded</c>, or <c>alarm</c> while clearing refuses the device.</summary>
    public string Status => Refusal is not null ? "alarm" : Amber ? "degraded" : "ok";

    /// <summary>Every current problem, one sentence each; empty when healthy.</summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        lock (_lock)
        {
            Add(problems, _refusal);
            Add(problems, _journalFull);
            Add(problems, _diskLow);
        }

        if (UploadError is { } upload)
        {
            problems.Add($"uploads failing ({upload.Reason}, {upload.Failures} times since {Iso(upload.Since)}): {upload.Message}");
        }

        if (SyncError is { } sync)
        {
            problems.Add($"sync failing ({sync.Reason}, {sync.Failures} times since {Iso(sync.Since)}): {sync.Message}");
        }

        return problems;
    }

    /// <summary>
    /// Counts an upload failure. Returns the error when this failure made it reportable or changed its cause (the
    /// moment to log a warning), otherwise null.
    /// </summary>
    public LinkError? UploadFailed(string reason, string message, DateTimeOffset at) => Failed(_upload, reason, message, at);

    /// <summary>Counts a failed sync round; returns the error when it became reportable or changed cause.</summary>
    public LinkError? SyncFailed(string reason, string message, DateTimeOffset at) => Failed(_sync, reason, message, at);

    /// <summary>An upload succeeded: forgets the failures. Returns the error that was reported, if any.</summary>
    public LinkError? UploadSucceeded() => Succeeded(_upload);

    /// <summary>A sync round completed: forgets the failures. Returns the error that was reported, if any.</summary>
    public LinkError? SyncSucceeded() => Succeeded(_sync);

    /// <summary>Sets or clears (null) clearing's refusal of the device.</summary>
    public void SetRefusal(string? refusal) => Set(ref _refusal, refusal);

    /// <summary>Records the journal file system's free space and whether it is below the configured minimum.</summary>
    public void SetDiskFree(long freeBytes, string? lowProblem)
    {
        Interlocked.Exchange(ref _diskFreeBytes, freeBytes);
        Set(ref _diskLow, lowProblem);
    }

    /// <summary>Sets (a commit failed for lack of space) or clears (a commit succeeded) the journal-full state.</summary>
    /// <returns>Whether the state changed.</returns>
    public bool SetJournalFull(string? problem) => Set(ref _journalFull, problem);

    private static void Add(List<string> problems, string? problem)
    {
        if (problem is not null)
        {
            problems.Add(problem);
        }
    }

    private static string Iso(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "?";

    private LinkError? Read(LinkTracker link)
    {
        lock (_lock)
        {
            return link.Failures >= alarmAfterFailures ? link.Error() : null;
        }
    }

    private LinkError? Failed(LinkTracker link, string reason, string message, DateTimeOffset at)
    {
        LinkError? report;
        lock (_lock)
        {
            if (link.Failures == 0)
            {
                link.Since = at;
            }

            var changedCause = link.Reason != reason;
            link.Failures++;
            link.Reason = reason;
            link.Message = message.Length > MaxMessageLength ? message[..MaxMessageLength] : message;
            report = link.Failures == alarmAfterFailures || (link.Failures > alarmAfterFailures && changedCause) ? link.Error() : null;
        }

        if (report is not null)
        {
            Changed?.Invoke();
        }

        return report;
    }

    private LinkError? Succeeded(LinkTracker link)
    {
        LinkError? reported;
        lock (_lock)
        {
            reported = link.Failures >= alarmAfterFailures ? link.Error() : null;
            link.Failures = 0;
            link.Reason = null;
        }

        if (reported is not null)
        {
            Changed?.Invoke();
        }

        return reported;
    }

    private bool Set(ref string? field, string? value)
    {
        lock (_lock)
        {
            if (field == value)
            {
                return false;
            }

            field = value;
        }

        Changed?.Invoke();
        return true;
    }

    private sealed class LinkTracker
    {
        public int Failures { get; set; }

        public string? Reason { get; set; }

        public string Message { get; set; } = "";

        public DateTimeOffset Since { get; set; }

        public LinkError Error() => new() { Reason = Reason, Message = Message, Since = Since, Failures = Failures };
    }
}
