using Transit.Clearing.Fleet;
using Transit.Clearing.Issuers;
using Transit.Clearing.Settlement;
using Transit.FareRules;
using Transit.RideCodes;
using Transit.Simulation;

namespace Transit.EndToEnd.Tests;

/// <summary>The whole system over two simulated days, checked against the simulation's ground truth.</summary>
[Collection(CityCollection.Name)]
[Trait("Category", "Process")]
public sealed class SimulationTests(SimulatedDays run) : IClassFixture<SimulatedDays>
{
    [Fact]
    public void Sim_TwoDays_ExitsCleanlyWithEveryPlannedTapAnswered()
    {
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Empty(run.LeftRunning);
        Assert.Equal(2, run.Truth.Days.Count);
        Assert.All(run.Truth.Days, d => Assert.Equal(d.Long("planned_taps"), d.Long("answered")));
        Assert.All(run.Truth.Taps, t => Assert.NotEqual("", t["seq"]));
        var planted = run.Truth.Riders.Select(r => r["planted"]).ToHashSet();
        Assert.Superset(Enum.GetNames<Planted>().Except([nameof(Planted.Passback)]).ToHashSet(), planted);
        Assert.Contains("books", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"bus \d+\.\d % of [\d,]+ boardings by trip chaining", run.Output);
    }

    [Fact]
    public async Task Sim_AnsweredTaps_EachReachesClearingExactlyOnceWithNoSequenceGaps()
    {
        var answered = run.Truth.Taps.ToDictionary(t => (t["device_id"], t.Long("seq")), t => (t["accepted"] == "1", t["reason"]));
        var stored = await run.QueryAsync("SELECT device_id, seq, accepted, gate_reason FROM taps", r => (Key: (r.GetString(0), r.GetInt64(1)), Value: (r.GetBoolean(2), r.GetString(3))));

        Assert.Equal(answered.Count, stored.Count);
        Assert.Equal(answered.Count, stored.Select(s => s.Key).Distinct().Count());
        Assert.All(stored, s => Assert.Equal(answered[s.Key], s.Value));
        var reconciliation = new Reconciliation(run.Database, new FleetView(run.Database, new Transit.Clearing.ClearingOptions(), TimeProvider.System));
        foreach (var day in run.Truth.Days.Select(d => d.Day))
        {
            var devices = await reconciliation.ForDayAsync(day, CancellationToken.None);
            Assert.NotEmpty(devices);
            Assert.All(devices, d => Assert.True(d.Missing == 0 && d.Gaps.Count == 0, $"{d.DeviceId} {day}: {d.Missing} missing"));
        }

        foreach (var device in run.Truth.Taps.GroupBy(t => t["device_id"]))
        {
            Assert.Equal(Enumerable.Range(1, device.Count()).Select(i => (long)i), device.Select(t => t.Long("seq")).Order());
        }
    }

    [Fact]
    public async Task Sim_RefusedCodes_RefusedForThePlantedReasonAndNoForgeryAcceptedAnywhere()
    {
        Assert.All(run.Truth.Taps, t => Assert.True(t["reason"] == t["expected"], $"{t["account"]} at {t["device_id"]} {t["planned_at"]}: {t["reason"]}, planted {t["expected"]}"));
        Assert.Contains(run.Truth.Taps, t => t["reason"] == "replayed");
        Assert.Contains(run.Truth.Taps, t => t["reason"] == "stale");
        Assert.Contains(run.Truth.Taps, t => t["reason"] == "passback");

        var forged = run.Truth.Taps.Where(t => t["forged"] == "1").ToList();
        Assert.NotEmpty(forged);
        Assert.All(forged, t => Assert.Equal(("0", "bad-issuer-signature"), (t["accepted"], t["reason"])));
        var forgers = run.Truth.Riders.Where(r => r["planted"] == nameof(Planted.Forged)).Select(r => run.ClearingAccount(r["account"])).ToArray();
        var inClearing = await run.QueryAsync(
            "SELECT count(*) FILTER (WHERE accepted OR flags & 32 <> 0), count(*) FILTER (WHERE clearing_reason <> 'bad-issuer-signature'), count(*) FROM taps WHERE account = ANY($1)",
            r => (Accepted: r.GetInt64(0), OtherReason: r.GetInt64(1), All: r.GetInt64(2)), [forgers]);
        Assert.Equal((0L, 0L, (long)forged.Count), inClearing[0]);
        Assert.Empty(await run.QueryAsync("SELECT account FROM charges WHERE account = ANY($1)", r => r.GetString(0), [forgers]));
        Assert.Empty(await run.QueryAsync("SELECT device_id FROM taps WHERE flags & 1 <> 0", r => r.GetString(0)));
    }

    [Fact]
    public async Task Sim_Books_BalanceToTheMinorUnitEveryDay()
    {
        var check = new BalanceCheck(run.Database);
        foreach (var day in run.Truth.Days.Select(d => d.Day))
        {
            var balance = await check.ComputeAsync(day, CancellationToken.None);
            Assert.True(balance.Balanced, balance.ToString());
            Assert.True(balance.Charges > 0, balance.ToString());
            var sums = await run.QueryAsync(
                "SELECT (SELECT sum(amount) FROM charges WHERE service_day = $1)::bigint, (SELECT sum(net) + sum(fee) FROM settlement_lines WHERE service_day = $1)::bigint",
                r => (Charges: r.GetInt64(0), SharesAndFees: r.GetInt64(1)), day);
            Assert.Equal(sums[0].Charges, sums[0].SharesAndFees);
        }
    }

    [Fact]
    public async Task Sim_RiderCharges_EqualFareRulesPricesOfTheTrueTrips()
    {
        var feed = FareFeed.LoadOrThrow(Path.Combine(run.RunFolder, "feed"));
        var engine = new FareEngine(feed, new PricingOptions { MaximumFares = new Dictionary<string, long> { ["metro"] = SyntheticCity.MetroMaximumFare } });
        var caps = new FareCapCalculator(feed);
        var media = feed.FareMedia.Values.Single(m => m.Type == 4).Id;
        var category = run.Truth.Riders.ToDictionary(r => r["account"], r => r["category"]);
        var expected = new Dictionary<(string, DateOnly), long>();
        foreach (var rider in run.Truth.Legs.GroupBy(l => l["account"]))
        {
            var journeys = rider.GroupBy(l => (l.Day, l["journey"]))
                .Select(j => (j.Key.Day, Fare: engine.Price([.. j.Select(l => new FareLeg(
                    l["route"], l["from"], l["taps_out"] == "1" ? l["to"] : null, l.Time("start"), l.Time("end"), category[rider.Key], media))])))
                .OrderBy(j => j.Fare.Start)
                .ToList();
            var capped = caps.Apply([.. journeys.Select(j => j.Fare)]);
            for (var i = 0; i < journeys.Count; i++)
            {
                Assert.False(journeys[i].Fare.IsUnpriced, $"{rider.Key}: a true journey the fare rules cannot price");
                var key = (rider.Key, journeys[i].Day);
                expected[key] = expected.GetValueOrDefault(key) + capped[i].Charged;
            }
        }

        // Another issuer's riders are charged to their issuer (status issuer-billed), at the same prices.
        var charged = (await run.QueryAsync("SELECT account, service_day, sum(amount)::bigint FROM charges GROUP BY 1, 2", r => (Key: (r.GetString(0), r.GetFieldValue<DateOnly>(1)), Amount: r.GetInt64(2))))
            .ToDictionary(c => (IssuerAccounts.AccountOf(c.Key.Item1), c.Key.Item2), c => c.Amount);
        Assert.All(charged.Keys, c => Assert.True(run.IssuerOf.ContainsKey(c.Item1), $"{c.Item1}: charged, not a rider of the run"));
        Assert.True(expected.Count > TestSize.Riders, $"{expected.Count} rider-days priced");
        var wrong = expected.Where(e => charged.GetValueOrDefault(e.Key) != e.Value).Select(e => $"{e.Key}: charged {charged.GetValueOrDefault(e.Key)}, true trips {e.Value}").ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(20)));
        Assert.Empty(charged.Keys.Except(expected.Keys));
    }

    [Fact]
    public async Task Sim_BlockedAccounts_RefusedAtGatesOnceTheDenyListReachesThem()
    {
        var days = run.Truth.Days.Select(d => d.Day).Order().ToList();
        foreach (var day in days)
        {
            var blocked = run.Truth.Blocked.Where(b => b.Day == day).Select(b => b["account"]).ToHashSet();
            Assert.NotEmpty(blocked);
            var taps = run.Truth.Taps.Where(t => t.Day == day && blocked.Contains(t["account"])).ToList();
            Assert.NotEmpty(taps);
            Assert.All(taps, t => Assert.Equal(("0", "denied"), (t["accepted"], t["reason"])));
        }

        // Riders whose first day's charge was declined are blocked by clearing, reach the gates' deny list by sync,
        // and are refused on the second day.
        var declined = await run.QueryAsync("SELECT account FROM charges WHERE service_day = $1 AND status = 'declined'", r => r.GetString(0), days[0]);
        Assert.NotEmpty(declined);
        var secondDay = run.Truth.Blocked.Where(b => b.Day == days[1]).Select(b => b["account"]).ToHashSet();
        Assert.Subset(secondDay, declined.ToHashSet());
        Assert.Contains(run.Truth.Taps, t => t.Day == days[1] && declined.Contains(t["account"]) && t["reason"] == "denied");
    }

    [Fact]
    public async Task Sim_Issuers_EveryIssuersRidersRodeAndEveryIssuersBooksBalance()
    {
        Assert.Equal(new HashSet<string> { IssuerIds.Home, "nat", "twin" }, run.IssuerOf.Values.ToHashSet());
        var check = new BalanceCheck(run.Database);
        foreach (var day in run.Truth.Days.Select(d => d.Day))
        {
            var balance = await check.ComputeAsync(day, CancellationToken.None);
            Assert.True(balance.Balanced, balance.ToString());
            Assert.Equal(["nat", "twin"], balance.Issuers!.Where(i => i.IssuerId != IssuerIds.Home && i.Dues > 0).Select(i => i.IssuerId).Order(StringComparer.Ordinal));
            Assert.All(balance.Issuers!, i => Assert.True(i.Balanced, i.ToString()));
        }

        // Clearing charges no rider of another issuer: their charges are the issuer's to pay.
        var statuses = await run.QueryAsync(
            "SELECT DISTINCT account LIKE '% %', status FROM charges", r => (External: r.GetBoolean(0), Status: r.GetString(1)));
        Assert.Contains((true, "issuer-billed"), statuses);
        Assert.DoesNotContain(statuses, s => s.External != (s.Status == "issuer-billed"));
        Assert.Contains("issuer      nat    national wallet (sm2)", run.Output, StringComparison.Ordinal);
        Assert.Contains("issuer      twin   twin city's card (p256)", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sim_Issuers_NoIssuersCodePassesUnderAnotherIssuersKeys()
    {
        // Forgers of another issuer's codes sign with a different issuer's real key (CityRun.IssueCredentials).
        var crossForgers = run.Truth.Riders.Where(r => r["planted"] == nameof(Planted.Forged) && r["issuer"] != IssuerIds.Home).Select(r => r["account"]).ToHashSet();
        Assert.NotEmpty(crossForgers);
        var taps = run.Truth.Taps.Where(t => crossForgers.Contains(t["account"])).ToList();
        Assert.NotEmpty(taps);
        Assert.All(taps, t => Assert.Equal(("0", "bad-issuer-signature"), (t["accepted"], t["reason"])));
        var inClearing = await run.QueryAsync(
            "SELECT count(*) FILTER (WHERE accepted OR flags & 32 <> 0), count(*) FROM taps WHERE account = ANY($1)",
            r => (Accepted: r.GetInt64(0), All: r.GetInt64(1)), [crossForgers.Select(run.ClearingAccount).ToArray()]);
        Assert.Equal((0L, (long)taps.Count), inClearing[0]);

        // Riders an issuer blocked through its own deny list are refused, and only they among its riders.
        var blockedByIssuers = run.Truth.Blocked.Where(b => run.IssuerOf[b["account"]] != IssuerIds.Home).Select(b => (b.Day, Account: b["account"])).ToHashSet();
        Assert.NotEmpty(blockedByIssuers);
        Assert.All(run.Truth.Taps.Where(t => blockedByIssuers.Contains((t.Day, t["account"]))), t => Assert.Equal("denied", t["reason"]));
    }
}
