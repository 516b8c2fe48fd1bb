using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Transit.Clearing.Fleet;
using Transit.Clearing.Reports;
using Transit.FareRules;
using Transit.RideCodes.KeyStore;
using Transit.Simulation;

namespace Transit.Simulation.Harness;

/// <summary>
/// What one simulated day came to, from the gates' answers and clearing's database: taps by decision, journeys,
/// revenue per operator, charges and declines, the deny list, reconciliation, and each gate's decision latency.
/// </summary>
public static class DayReport
{
    public static async Task<string> BuildAsync(CityRun run, PlayedDay day, (string Text, bool Balanced) clearing, CancellationToken cancellation)
    {
        var date = day.Plan.Date;
        var figures = new DayFigures(run.Clearing.Services.GetRequiredService<NpgsqlDataSource>());
        var sb = new StringBuilder();
        var answered = day.Answers.Where(a => a is not null).Select(a => a!).ToList();
        var rate = answered.Count / Math.Max(0.001, day.PlayTime.TotalSeconds);
        var waits = day.QueueWaitMillis.Order().ToList();
        var pace = double.IsFinite(day.Compression) ? Invariant($"busy hours compressed ×{day.Compression:N0}") : "flat out: every tap queued at once";
        sb.AppendLine(Invariant($"Service day {date:yyyy-MM-dd}: {answered.Count:N0} taps at {run.Gates.Count} gates in {day.PlayTime.TotalSeconds:N0} s ({rate:N0} taps/s, {pace}); uploads done {day.UploadTime.TotalSeconds:N1} s after the last tap"));
        if (double.IsFinite(day.Compression))
        {
            sb.AppendLine(Invariant($"  lag         behind the compressed schedule (riders queueing at busy gates, one rider at a time per gate): p50 {Percentile(waits, 0.5):N0} ms, p99 {Percentile(waits, 0.99):N0} ms real time"));
        }

        var refused = answered.Where(a => !a.Accepted).GroupBy(a => a.Reason).OrderByDescending(g => g.Count()).Select(g => Invariant($"{g.Key} {g.Count():N0}"));
        var mismatched = day.Plan.Taps.Select((t, i) => (t, a: day.Answers[i])).Count(p => p.a is null || p.a.Reason != p.t.ExpectedReason);
        sb.AppendLine(Invariant($"  taps        accepted {answered.Count(a => a.Accepted):N0}; refused {answered.Count(a => !a.Accepted):N0} ({string.Join(", ", refused)}); {(mismatched == 0 ? "every refusal for the planted reason" : $"{mismatched} answers differ from the plan")}"));

        var stored = await figures.TapsAsync(date, cancellation);
        var reconciliation = await run.Clearing.Services.GetRequiredService<Reconciliation>().ForDayAsync(date, cancellation);
        sb.AppendLine(Invariant($"  clearing    {stored.All:N0} taps stored ({stored.Billable:N0} billable, {stored.RefusedByClearing:N0} refused on re-verification, {stored.DuplicateUses:N0} duplicate uses); {reconciliation.Count} devices reconciled, {reconciliation.Sum(r => r.Missing):N0} taps missing"));

        var journeys = await figures.JourneysAsync(date, cancellation);
        var currency = await figures.CurrencyAsync(date, cancellation);
        sb.AppendLine(Invariant($"  journeys    {journeys.All:N0} by {journeys.Riders:N0} riders ({journeys.Legs:N0} legs; {journeys.Incomplete:N0} incomplete, priced at the maximum fare; {journeys.Capped:N0} capped; {journeys.UnpricedLegs:N0} legs the fare rules could not price, charged {Money(journeys.UnpricedAmount)} {currency} by the unpriced-fare policy)"));

        var riderDays = await figures.CappedRiderDaysAsync(date, cancellation);
        var caps = FareFeed.Load(run.FeedFolder).FareCaps;
        var reached = CapsReached.Of(riderDays.Select(d => (d.Category, d.Charged, d.Saved)), caps);
        sb.AppendLine(caps.Count == 0
            ? "  caps        none: the feed has no fare_caps.txt"
            : Invariant($"  caps        daily cap reached by {reached.DailyRiders:N0} riders (saved them {Money(reached.DailySaved)} {currency}); weekly or longer cap by {reached.LongerRiders:N0} riders (saved {Money(reached.LongerSaved)} {currency}); {journeys.Capped:N0} journeys capped"));

        var segments = Demand.JourneysBySegment(day.Plan).Select(s => Invariant($"{s.Segment} {s.Journeys:N0} ({s.Rode:N0} of {s.Riders:N0} rode)"));
        sb.AppendLine($"  segments    true journeys by rider segment: {string.Join(", ", segments)}");

        foreach (var o in await figures.RevenueAsync(date, cancellation))
        {
            sb.AppendLine(Invariant($"  revenue     {o.OperatorId,-10} {Money(o.Gross),12} {currency} gross, fee {Money(o.Fee)}, paid out {Money(o.Net)}"));
        }

        sb.Append(await IssuerReport.BuildAsync(run, day, currency, cancellation));

        var charges = (await figures.ChargesAsync(date, cancellation)).OrderByDescending(c => c.Count).ToList();
        sb.AppendLine(charges.Count == 0
            ? Invariant($"  charges     none ({(journeys.UnpricedLegs > 0 ? $"{journeys.UnpricedLegs:N0} legs unpriced and charged nothing: check the unpriced-fare policy" : "every journey of the day was free")})")
            : Invariant($"  charges     {charges.Sum(c => c.Count):N0} riders charged {Money(charges.Sum(c => c.Amount))} {currency}: {string.Join(", ", charges.Select(c => Invariant($"{c.Status} {c.Count:N0} ({Money(c.Amount)})")))}"));
        var blocked = await figures.BlockedAccountsAsync(cancellation);
        var denyList = OperatorKeyDirectory.Open(run.KeyDirectory).DenyList;
        sb.AppendLine(Invariant($"  deny list   v{denyList.Version}: {denyList.Accounts.Count:N0} accounts ({day.Plan.BlockedAccounts.Count():N0} blocked before the day, {blocked:N0} now blocked by clearing for unpaid charges)"));
        sb.AppendLine($"  books       {clearing.Text.Split('\n').Last(l => l.StartsWith("books:", StringComparison.Ordinal))["books: ".Length..]}");
        sb.AppendLine($"  OD          {await OriginDestinationAsync(run, date, cancellation)}");

        sb.AppendLine("  gates       decision latency (read → durable commit, the agents' own figures), and the lag of the riders queueing at each:");
        var waitsByGate = day.Devices.Select((d, i) => (d, i)).Where(p => p.d is not null && p.i < day.QueueWaitMillis.Length)
            .ToLookup(p => p.d!, p => day.QueueWaitMillis[p.i], StringComparer.Ordinal);
        foreach (var gate in answered.GroupBy(a => a.DeviceId).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var latencies = gate.Select(a => a.LatencyMs).Order().ToList();
            var queue = waitsByGate[gate.Key].Order().ToList();
            sb.AppendLine(Invariant($"    {gate.Key,-14} {latencies.Count,7:N0} taps  p50 {Percentile(latencies, 0.50),6:F2} ms  p99 {Percentile(latencies, 0.99),6:F2} ms  max {latencies[^1],7:F2} ms   lag p99 {Percentile(queue, 0.99),7:N0} ms"));
        }

        return sb.ToString();
    }

    /// <summary>
    /// Where riders went, from the analytics (docs/analytics.md): metro OD from entry/exit pairs, and the share of bus
    /// boardings whose destination trip chaining inferred. Waits for the analytics jobs of the day first.
    /// </summary>
    private static async Task<string> OriginDestinationAsync(CityRun run, DateOnly date, CancellationToken cancellation)
    {
        var scheduler = run.Clearing.Services.GetRequiredService<Transit.Clearing.Jobs.JobScheduler>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        // The day's pipeline ends with the analytics' close of the day (a full refresh of its rollups); later periodic
        // refreshes are queued ahead of time and do not count.
        while (scheduler.IsDayPending(date) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, cancellation);
        }

        using var http = ApiClient(run);
        using var response = await http.GetAsync($"api/analytics/od?from={date:yyyy-MM-dd}", cancellation);
        if (!response.IsSuccessStatusCode)
        {
            return $"no analytics in this clearing server (GET api/analytics/od: {(int)response.StatusCode})";
        }

        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellation)).RootElement;
        var rows = (json.ValueKind == JsonValueKind.Array ? json : json.GetProperty("rows")).EnumerateArray()
            .Select(r => (Mode: Text(r, "mode"), Destination: Text(r, "toStop"), Legs: Number(r, "legs"), Exact: Number(r, "exact"),
                Next: Number(r, "chainedToNextBoarding"), First: Number(r, "chainedToFirstOrigin")))
            .ToList();
        var metro = rows.Where(r => r.Mode == "metro").ToList();
        var bus = rows.Where(r => r.Mode == "bus").ToList();
        var busLegs = bus.Sum(r => r.Legs);
        var inferred = bus.Where(r => r.Destination.Length > 0).Sum(r => r.Legs);
        var all = rows.Sum(r => r.Legs);
        return Invariant($"inferred for {Share(rows.Where(r => r.Destination.Length > 0).Sum(r => r.Legs), all)} of {all:N0} legs; metro {Share(metro.Sum(r => r.Exact), metro.Sum(r => r.Legs))} exact from entry and exit; bus {Share(inferred, busLegs)} of {busLegs:N0} boardings by trip chaining ({bus.Sum(r => r.Next):N0} to the next boarding, {bus.Sum(r => r.First):N0} back to the day's first origin)");

        static string Text(JsonElement row, string name) => row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

        static long Number(JsonElement row, string name) => row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;

        static string Share(long part, long whole) => whole == 0 ? "n/a" : (100.0 * part / whole).ToString("F1", CultureInfo.InvariantCulture) + " %";
    }

    /// <summary>The dashboard's URL when this clearing server has one (analytics).</summary>
    public static async Task<Uri?> DashboardAsync(CityRun run, CancellationToken cancellation)
    {
        using var http = ApiClient(run);
        using var response = await http.GetAsync("dashboard/", cancellation);
        return response.IsSuccessStatusCode ? new Uri(http.BaseAddress!, "dashboard/") : null;
    }

    private static HttpClient ApiClient(CityRun run)
    {
        var http = new HttpClient { BaseAddress = run.Clearing.ApiUrls[0], Timeout = TimeSpan.FromMinutes(1) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", run.AdminToken);
        return http;
    }

    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    internal static string Money(long minor) => (minor / 100m).ToString("N2", CultureInfo.InvariantCulture);

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
