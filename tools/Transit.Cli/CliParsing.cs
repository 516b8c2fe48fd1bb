using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Transit.RideCodes;

namespace Transit.Cli;

/// <summary>Option and argument parsers shared by the commands.</summary>
internal static class CliParsing
{
    /// <summary>An ISO 8601 instant; without an offset it is taken as UTC.</summary>
    public static Option<DateTimeOffset?> InstantOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "ISO8601",
        CustomParser = result => ParseInstant(result),
    };

    public static Option<SignatureAlgorithm> AlgorithmOption() => new("--alg")
    {
        Description = "Signature algorithm: p256 (ECDSA P-256, default) or sm2 (SM2/SM3)",
        HelpName = "p256|sm2",
        DefaultValueFactory = _ => SignatureAlgorithm.P256,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "p256";
            if (SignatureAlgorithmNames.TryParse(text, out var algorithm))
            {
                return algorithm;
            }

            result.AddError($"--alg: '{text}' is not an algorithm (expected p256 or sm2)");
            return default;
        },
    };

    public static Option<DirectoryInfo> DirectoryOption(string name, string description) => new(name)
    {
        Description = description,
        Required = true,
        HelpName = "DIR",
    };

    public static DateTimeOffset? ParseInstant(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[0].Value;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            return value;
        }

        result.AddError($"{result.Parent?.ToString() ?? "time"}: '{text}' is not an ISO 8601 time (e.g. 2026-11-21T08:30:00Z)");
        return null;
    }

    /// <summary>Reads a whole text file, turning a missing or unreadable file into a usage error naming it.</summary>
    public static string ReadInputFile(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {what} {path}: {ex.Message}");
        }
    }

    /// <summary>A clock fixed at <paramref name="at"/>, or the system clock.</summary>
    public static TimeProvider Clock(DateTimeOffset? at) => at is { } fixedTime ? new FixedTimeProvider(fixedTime) : TimeProvider.System;

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
