namespace Transit.FareRules;

/// <summary>The checks that need several files at once, run after every file is read.</summary>
internal static class FeedValidator
{
    public static void Check(FeedContents feed)
    {
        CheckTimeframeOverlaps(feed);
        CheckProductCategories(feed);
        CheckCurrencies(feed);
        CheckDestinationWithoutTapOut(feed);
    }

    /// <summary>
    /// Fares that depend on where the rider gets off (to_area_id) need a tap-out; without one (buses have no exit gate
    /// unless the network installs bus tap-off validators) every such leg is unpriced and charged by the unpriced-leg
    /// policy, so the feed's owner is warned before a pilot finds out from its revenue.
    /// </summary>
    private static void CheckDestinationWithoutTapOut(FeedContents feed)
    {
        var ruleNetworks = feed.FareLegRules.Select(r => r.NetworkId).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var network in feed.FareLegRules.Where(r => r.ToAreaId is not null).GroupBy(r => r.NetworkId ?? "", StringComparer.Ordinal))
        {
            // A blank network applies to the routes of networks no rule names.
            var routes = feed.Routes.Values
                .Where(r => network.Key.Length == 0 ? r.NetworkId is null || !ruleNetworks.Contains(r.NetworkId) : r.NetworkId == network.Key)
                .ToList();
            var withoutExit = routes.Where(r => r.RouteType != 1).Select(r => r.Id).Order(StringComparer.Ordinal).ToList();
            if (withoutExit.Count == 0)
            {
                continue;
            }

            var name = network.Key.Length == 0 ? "routes without a network in the rules" : $"network '{network.Key}'";
            feed.Notices.Add(new FeedNotice(
                "fare_leg_rules.txt",
                network.First().Line,
                NoticeCodes.FareNeedsDestinationWithoutTapOut,
                NoticeSeverity.Warning,
                $"fares of {name} depend on to_area_id, but {withoutExit.Count} of its routes ({string.Join(", ", withoutExit.Take(5))}{(withoutExit.Count > 5 ? ", ..." : "")}) are not metro and have no tap-out: install tap-off validators (on buses: device mode bus-exit), or boardings there are charged by the unpriced-leg policy"));
        }
    }

    private static void CheckTimeframeOverlaps(FeedContents feed)
    {
        foreach (var group in feed.Timeframes.GroupBy(t => (t.GroupId, t.ServiceId)))
        {
            Timeframe? previous = null;
            foreach (var timeframe in group.OrderBy(t => t.StartSeconds).ThenBy(t => t.Line))
            {
                if (previous is not null && timeframe.StartSeconds < previous.EndSeconds)
                {
                    feed.Notices.Add(new FeedNotice(
                        "timeframes.txt",
                        timeframe.Line,
                        NoticeCodes.TimeframeOverlap,
                        NoticeSeverity.Error,
                        $"timeframe '{timeframe.GroupId}' for service '{timeframe.ServiceId}' overlaps the one on line {previous.Line}"));
                }

                if (previous is null || timeframe.EndSeconds > previous.EndSeconds)
                {
                    previous = timeframe;
                }
            }
        }
    }

    private static void CheckProductCategories(FeedContents feed)
    {
        foreach (var product in feed.FareProducts.GroupBy(p => p.Id))
        {
            var categories = product.Select(p => p.RiderCategoryId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            if (categories.Count < 2)
            {
                continue;
            }

            var defaults = categories.Count(c => feed.RiderCategories.TryGetValue(c, out var category) && category.IsDefault);
            var line = product.First().Line;
            if (defaults > 1)
            {
                feed.Notices.Add(new FeedNotice("fare_products.txt", line, NoticeCodes.FareProductWithMultipleDefaultRiderCategories, NoticeSeverity.Error, $"fare product '{product.Key}' is eligible for {defaults} default rider categories"));
            }
            else if (defaults == 0)
            {
                feed.Notices.Add(new FeedNotice("fare_products.txt", line, NoticeCodes.FareProductWithoutDefaultRiderCategory, NoticeSeverity.Warning, $"fare product '{product.Key}' is eligible for rider categories {string.Join(", ", categories)} but none of them is the default"));
            }
        }
    }

    private static void CheckCurrencies(FeedContents feed)
    {
        var currencies = feed.FareProducts.Select(p => p.Currency).Distinct(StringComparer.Ordinal).ToList();
        if (currencies.Count > 1)
        {
            var first = feed.FareProducts.First(p => p.Currency != currencies[0]);
            feed.Notices.Add(new FeedNotice("fare_products.txt", first.Line, NoticeCodes.MultipleCurrencies, NoticeSeverity.Warning, $"fare products use {string.Join(", ", currencies)}; only {currencies[0]} products are priced"));
        }

        foreach (var cap in feed.FareCaps.Where(c => c.Currency is not null && currencies.Count > 0 && c.Currency != currencies[0]))
        {
            feed.Notices.Add(new FeedNotice("fare_caps.txt", cap.Line, NoticeCodes.MultipleCurrencies, NoticeSeverity.Error, $"cap '{cap.Id}' is in {cap.Currency} but fares are in {currencies[0]}"));
        }
    }
}
