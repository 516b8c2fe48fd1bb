using System.Globalization;
using Transit.Clearing.Ingest;
using Transit.DeviceApi;

namespace Transit.Clearing.Devices;

/// <summary>
/// The bounds of a status report. A report is a gate's word about itself, stored and shown to operators: every field
/// is bounded, and one out of bounds is named in a 400 (a gate's status is its software's bug, not a rider's).
/// </summary>
public static class DeviceStatusBounds
{
    /// <summary>Largest status body, after decompression.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public const int MaxTapReasons = 32;
    public const int MaxKeyLength = 40;
    public const int MaxSoftwareVersionLength = 64;
    public const int MaxErrorMessageLength = 500;

    /// <summary>Ten years: no clock is further off than that and still worth showing.</summary>
    public const long MaxClockOffsetMillis = 10L * 366 * 24 * 3600 * 1000;

    /// <summary>Every field of <paramref name="report"/> out of bounds, by its JSON path; empty when all are in bounds.</summary>
    public static Dictionary<string, string[]> Check(DeviceStatusReport report)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Fail(string field, string error) => errors.TryAdd(field, [error]);
        void NotNegative(string field, long? value)
        {
            if (value < 0)
            {
                Fail(field, "must not be negative");
            }
        }

        NotNegative("keySetVersion", report.KeySetVersion);
        NotNegative("denyListVersion", report.DenyListVersion);
        NotNegative("configVersion", report.ConfigVersion);
        NotNegative("journalBacklog", report.JournalBacklog);
        NotNegative("highestSequence", report.HighestSequence);
        NotNegative("p99LatencyMicros", report.P99LatencyMicros);
        if (report.DiskFreeBytes < -1)
        {
            // -1 is the gate's "could not read the file system" (docs/device-api.md).
            Fail("diskFreeBytes", "must be -1 (unknown) or more");
        }

        if (report.ClockOffsetMillis is < -MaxClockOffsetMillis or > MaxClockOffsetMillis)
        {
            Fail("clockOffsetMillis", "must be within ten years either way");
        }

        if (report.Taps is { } taps)
        {
            if (taps.Count > MaxTapReasons)
            {
                Fail("taps", string.Create(CultureInfo.InvariantCulture, $"at most {MaxTapReasons} reasons, {taps.Count} sent"));
            }

            foreach (var (reason, count) in taps)
            {
                if (!IsKebab(reason))
                {
                    Fail("taps", string.Create(CultureInfo.InvariantCulture, $"reasons are lower-case kebab-case of 1 to {MaxKeyLength} characters"));
                }
                else if (count < 0)
                {
                    Fail($"taps.{reason}", "must not be negative");
                }
            }
        }

        if (report.SoftwareVersion is { } version && (version.Length is 0 or > MaxSoftwareVersionLength || version.Any(c => c is <= ' ' or > '~')))
        {
            Fail("softwareVersion", string.Create(CultureInfo.InvariantCulture, $"1 to {MaxSoftwareVersionLength} printable ASCII characters without spaces"));
        }

        if (report.Alarm is not (null or "amber"))
        {
            Fail("alarm", "amber or null");
        }

        CheckError("uploadError", report.UploadError, Fail);
        CheckError("syncError", report.SyncError, Fail);
        return errors;
    }

    private static void CheckError(string field, LinkError? error, Action<string, string> fail)
    {
        if (error is null)
        {
            return;
        }

        if (!IsKebab(error.Reason))
        {
            fail($"{field}.reason", string.Create(CultureInfo.InvariantCulture, $"required, lower-case kebab-case of 1 to {MaxKeyLength} characters, e.g. tls-name-mismatch"));
        }

        if (error.Message?.Length > MaxErrorMessageLength)
        {
            fail($"{field}.message", string.Create(CultureInfo.InvariantCulture, $"at most {MaxErrorMessageLength} characters"));
        }

        if (error.Failures < 0)
        {
            fail($"{field}.failures", "must not be negative");
        }
    }

    /// <summary>The report's error as stored: its message with control characters escaped.</summary>
    public static LinkError? Stored(LinkError? error) => error is null ? null : error with { Message = TapText.Stored(error.Message, MaxErrorMessageLength) };

    private static bool IsKebab(string? text) =>
        text is { Length: > 0 and <= MaxKeyLength } && text[0] is >= 'a' and <= 'z' or >= '0' and <= '9' && text.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-');
}
