using System.Security.Cryptography;
using Transit.Analytics;
using Transit.Analytics.Web;
using Transit.RideCodes.KeyStore;
using Transit.Clearing.Database;
using Transit.Clearing.Trust;

namespace Transit.Clearing.Analytics;

/// <summary>Ridership analytics inside clearing: its settings from <see cref="ClearingOptions"/>, and the deployment's pseudonym secret.</summary>
public static class ClearingAnalytics
{
    public const string SecretFile = "analytics-pseudonym.key";

    /// <summary>The analytics options of this deployment; the time zone is the service calendar's.</summary>
    public static AnalyticsWebOptions Options(ClearingOptions options, ServiceCalendar calendar) => new()
    {
        Analytics = new AnalyticsOptions
        {
            MaxWalkMeters = options.Analytics.MaxWalkMeters,
            MaxJourneyTime = options.MaxJourneyTime,
            SuppressionK = options.Analytics.SuppressionK,
            TimeZone = calendar.Zone,
        },
        Currency = options.Analytics.Currency,
    };

    /// <summary>
    /// The configured secret, or the one kept beside the operator's keys (made on first use, readable by the owner
    /// only). Every clearing process of a deployment must use the same secret, or a rider's days would not link.
    /// </summary>
    public static string Secret(ClearingOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Analytics.PseudonymSecret))
        {
            return options.Analytics.PseudonymSecret;
        }

        var keys = new OperatorKeys(options).Path;
        var folder = Directory.Exists(keys) ? keys : options.DataFolder ?? ProjectPaths.DataFolder();
        var path = Path.Combine(folder, SecretFile);
        if (!File.Exists(path))
        {
            // Written aside, then moved in without overwriting: of processes starting together, the first wins and
            // the others read its secret.
            var candidate = $"{path}.{Environment.ProcessId}";
            AtomicFile.WriteAllText(candidate, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)), secret: true);
            try
            {
                File.Move(candidate, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(candidate);
            }
        }

        return File.ReadAllText(path).Trim();
    }
}
