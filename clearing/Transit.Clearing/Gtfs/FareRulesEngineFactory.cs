using Transit.Clearing.Journeys;

namespace Transit.Clearing.Gtfs;

/// <summary>Builds pricers with Transit.FareRules.</summary>
public sealed class FareRulesEngineFactory : IFareEngineFactory
{
    public IJourneyPricer Create(IReadOnlyDictionary<string, string> files) =>
        throw new GtfsImportException("the fare engine (Transit.FareRules) is not merged yet");
}
