using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing.Issuers;
using Transit.RideCodes;

namespace Transit.Simulation.Harness;

/// <summary>
/// The day report's issuer lines (a run with other issuers): per issuer its riders' taps at the gates, the journeys
/// clearing priced, what it owes in all and to each operator, the platform's fee, and whether its dues add up.
/// </summary>
public static class IssuerReport
{
    public static async Task<string> BuildAsync(CityRun run, PlayedDay day, string currency, CancellationToken cancellation)
    {
        if (run.Issuers.Count < 2)
        {
            return "";
        }

        var statements = run.Clearing.Services.GetRequiredService<IssuerStatements>();
        var issuerOf = day.Plan.Riders.ToDictionary(r => r.Account, r => r.Issuer, StringComparer.Ordinal);
        var taps = day.Plan.Taps.Select((t, i) => (Issuer: issuerOf[t.Account], Answer: day.Answers[i]))
            .Where(t => t.Answer is not null)
            .ToLookup(t => t.Issuer, t => t.Answer!, StringComparer.Ordinal);
        var sb = new StringBuilder();
        foreach (var issuer in run.Issuers)
        {
            var statement = await statements.ForAsync(issuer.Id, day.Plan.Date, cancellation)
                ?? throw new SimulationException($"clearing knows no issuer {issuer.Id}", 1);
            var adds = statement.Due == checked(statement.Net + statement.Fee)
                && statement.Net == statement.Operators.Sum(o => o.Net) && statement.Fee == statement.Operators.Sum(o => o.Fee);
            var riders = day.Plan.Riders.Count(r => r.Issuer == issuer.Id);
            var answers = taps[issuer.Id].ToList();
            var settlement = issuer.Id == IssuerIds.Home ? "riders charged" : "due by statement";
            sb.AppendLine(DayReport.Invariant(
                $"  issuer      {issuer.Id,-6} {issuer.Name} ({issuer.Algorithm}): {riders:N0} riders, taps accepted {answers.Count(a => a.Accepted):N0}, refused {answers.Count(a => !a.Accepted):N0}; {statement.Journeys.Count:N0} journeys; {settlement} {DayReport.Money(statement.Due)} {currency} = to operators {DayReport.Money(statement.Net)} + fee {DayReport.Money(statement.Fee)}: {(adds ? "balanced" : "NOT BALANCED")}"));
            foreach (var due in statement.Operators)
            {
                var rate = due.FeeBasisPoints is { } bps ? DayReport.Invariant($" at {bps} bp") : "";
                sb.AppendLine(DayReport.Invariant(
                    $"                to {due.OperatorId,-10} {DayReport.Money(due.Gross),12} {currency} gross, fee {DayReport.Money(due.Fee)}{rate}, net {DayReport.Money(due.Net)}"));
            }
        }

        return sb.ToString();
    }
}
