using Transit.FareRules;
using Transit.Clearing.Pricing;

namespace Transit.Clearing.Gtfs;

/// <summary>Builds pricers with Transit.FareRules: its fare engine for journeys, its cap calculator for caps.</summary>
public sealed class FareRulesEngineFactory(ClearingOptions options) : IFareEngineFactory
{
    public IJourneyPricer Create(IReadOnlyDictionary<string, string> files) => new FareRulesPricer(Load(files), options);

    /// <summary>Loads a feed; throws <see cref="GtfsImportException"/> listing its errors when it has any.</summary>
    public static FareFeed Load(IReadOnlyDictionary<string, string> files)
    {
        var feed = FareFeed.FromFiles(files);
        if (feed.Report.HasErrors)
        {
            var errors = feed.Report.Notices.Where(n => n.Severity == NoticeSeverity.Error).ToList();
            throw new GtfsImportException(
                $"the feed has {errors.Count} errors: {string.Join("; ", errors.Take(5))}{(errors.Count > 5 ? "; ..." : "")}");
        }

        return feed;
    }
}
