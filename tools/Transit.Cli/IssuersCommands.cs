using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing;
using Transit.Clearing.Issuers;
using Transit.Clearing.Hosting;

namespace Transit.Cli;

/// <summary><c>transit issuers</c>: register other issuers' trust documents in clearing and the operators' acceptance of them.</summary>
internal static class IssuersCommands
{
    public static Command Create()
    {
        var db = new DatabaseOptions();
        var issuers = new Command("issuers", "Issuers other than the operator's own: register their root and key set, and which operators accept them on what terms");
        db.AddTo(issuers);
        issuers.Subcommands.Add(Add(db));
        issuers.Subcommands.Add(Update(db));
        issuers.Subcommands.Add(Accept(db));
        issuers.Subcommands.Add(List(db));
        issuers.Subcommands.Add(IssuerDenyListCommand.Create(db));
        return issuers;
    }

    private static Command Add(DatabaseOptions db)
    {
        var root = new Option<FileInfo>("--root") { Description = "The issuer's root.pub.json", Required = true };
        var keySet = new Option<FileInfo>("--keyset") { Description = "The issuer's signed keyset.json (must name its issuer id: 'transit keys init --issuer ID')", Required = true };
        var name = new Option<string>("--name") { Description = "The issuer's name", Required = true };
        var command = new Command("add", "Register an issuer: its key set is verified under its root and names its id") { root, keySet, name };
        command.SetAction((parsed, cancellation) => RunAsync(db, parsed, async registry =>
        {
            var (rootFile, keySetFile) = (parsed.GetValue(root)!, parsed.GetValue(keySet)!);
            var added = await registry.AddAsync(Read(rootFile, "--root"), rootFile.FullName, Read(keySetFile, "--keyset"), keySetFile.FullName, parsed.GetValue(name)!, cancellation);
            Console.WriteLine($"issuer {added.IssuerId} ({added.Name}, {added.Algorithm}) registered with key set version {added.KeySetVersion}");
            Console.WriteLine($"  no operator accepts it yet: 'transit issuers accept --operator OP --issuer {added.IssuerId} --from YYYY-MM-DD --fee-bps N'");
        }, cancellation));
        return command;
    }

    private static Command Update(DatabaseOptions db)
    {
        var issuer = new Option<string>("--issuer") { Description = "Issuer id", Required = true };
        var keySet = new Option<FileInfo>("--keyset") { Description = "The issuer's newer signed keyset.json, under the same root", Required = true };
        var command = new Command("update", "Replace an issuer's key set with a newer version signed by the same root") { issuer, keySet };
        command.SetAction((parsed, cancellation) => RunAsync(db, parsed, async registry =>
        {
            var file = parsed.GetValue(keySet)!;
            var updated = await registry.UpdateKeySetAsync(parsed.GetValue(issuer)!, Read(file, "--keyset"), file.FullName, cancellation);
            Console.WriteLine($"issuer {updated.IssuerId}: key set version {updated.KeySetVersion}");
        }, cancellation));
        return command;
    }

    private static Command Accept(DatabaseOptions db)
    {
        var operatorId = new Option<string>("--operator") { Description = "Operator (GTFS agency_id)", Required = true };
        var issuer = new Option<string>("--issuer") { Description = "Issuer id", Required = true };
        var from = new Option<string>("--from") { Description = "First service day accepted (YYYY-MM-DD)", Required = true };
        var to = new Option<string?>("--to") { Description = "First service day no longer accepted (YYYY-MM-DD; default: open)" };
        var fee = new Option<int>("--fee-bps") { Description = "The platform's fee on this issuer's riders' fares on this operator, in basis points (0-10000)", Required = true };
        var command = new Command("accept", "Add an issuer to an operator's acceptance list from a day, with the agreed fee") { operatorId, issuer, from, to, fee };
        command.SetAction((parsed, cancellation) => RunAsync(db, parsed, async registry =>
        {
            var accepted = await registry.AcceptAsync(
                parsed.GetValue(operatorId)!, parsed.GetValue(issuer)!, ClearingCommands.ParseDate(parsed.GetValue(from)!, "--from"),
                parsed.GetValue(to) is { } end ? ClearingCommands.ParseDate(end, "--to") : null, parsed.GetValue(fee), cancellation);
            Console.WriteLine($"operator {accepted.OperatorId} accepts issuer {accepted.IssuerId} from {Day(accepted.ValidFrom)}{(accepted.ValidTo is { } until ? $" until {Day(until)} (exclusive)" : "")}, fee {accepted.FeeBasisPoints} basis points");
        }, cancellation));
        return command;
    }

    private static Command List(DatabaseOptions db)
    {
        var command = new Command("list", "List the registered issuers and the operators that accept them");
        command.SetAction((parsed, cancellation) => RunAsync(db, parsed, async registry =>
        {
            Console.WriteLine("issuer\tname\talgorithm\tkey_set_version\toperator\tfrom\tto\tfee_bps");
            foreach (var i in await registry.ListAsync(cancellation))
            {
                var head = string.Join('\t', i.IssuerId, i.Name, i.Algorithm, i.KeySetVersion.ToString(CultureInfo.InvariantCulture));
                if (i.Acceptances.Count == 0)
                {
                    Console.WriteLine(string.Join('\t', head, "-", "-", "-", "-"));
                }

                foreach (var a in i.Acceptances)
                {
                    Console.WriteLine(string.Join('\t', head, a.OperatorId, Day(a.ValidFrom), a.ValidTo is { } end ? Day(end) : "-", a.FeeBasisPoints.ToString(CultureInfo.InvariantCulture)));
                }
            }
        }, cancellation));
        return command;
    }

    private static async Task<int> RunAsync(DatabaseOptions db, ParseResult parsed, Func<IssuerRegistry, Task> action, CancellationToken cancellation)
    {
        await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
        await using var database = services.GetRequiredService<ClearingDatabase>();
        try
        {
            await action(services.GetRequiredService<IssuerRegistry>());
        }
        catch (IssuerException ex)
        {
            throw new CliException(ex.Message, ex.Problem == IssuerProblem.NotFound ? CliApp.NotFound : CliApp.UsageError);
        }

        cancellation.ThrowIfCancellationRequested();
        return 0;
    }

    private static string Read(FileInfo file, string option)
    {
        try
        {
            return File.ReadAllText(file.FullName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option}: cannot read {file.FullName}: {ex.Message}");
        }
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
