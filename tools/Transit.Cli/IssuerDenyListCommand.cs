using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing;
using Transit.Clearing.Issuers;
using Transit.RideCodes;
using Transit.Clearing.Hosting;

namespace Transit.Cli;

/// <summary>
/// <c>transit issuers deny-list</c>: hand clearing an external issuer's own signed deny list (from <c>transit deny
/// export --dir ISSUERDIR</c>) to relay to the gates of the operators that accept the issuer.
/// </summary>
internal static class IssuerDenyListCommand
{
    public static Command Create(DatabaseOptions db)
    {
        var issuer = new Option<string>("--issuer") { Description = "Issuer id (as its key set declares it)", Required = true };
        var file = new Option<FileInfo>("--file") { Description = "The issuer's signed deny list (transit deny export --dir ISSUERDIR --out FILE)", Required = true };
        var command = new Command(
            "deny-list", "Store an issuer's own signed deny list for its operators' gates: it must verify under the issuer's stored keys and be newer")
        {
            issuer, file,
        };
        command.SetAction(async (parsed, cancellation) =>
        {
            var id = parsed.GetValue(issuer)!;
            if (!IssuerIds.IsValid(id))
            {
                throw new CliException($"--issuer: '{id}' is not an issuer id ({IssuerIds.Rule})");
            }

            var path = parsed.GetValue(file)!.FullName;
            string json;
            try
            {
                json = await File.ReadAllTextAsync(path, cancellation);
            }
            catch (IOException ex)
            {
                throw new CliException($"--file {path}: {ex.Message}");
            }

            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            switch (await services.GetRequiredService<IssuerDenyLists>().AcceptAsync(id, json, cancellation))
            {
                case IssuerDenyListOutcome.Stored stored:
                    Console.WriteLine($"issuer {id}: deny list version {stored.Version} ({stored.Entries} entries) stored; the gates accepting {id} get it at their next sync");
                    return 0;
                case IssuerDenyListOutcome.Unchanged unchanged:
                    Console.WriteLine($"issuer {id}: deny list version {unchanged.Version} is already held; nothing changed");
                    return 0;
                case IssuerDenyListOutcome.UnknownIssuer:
                    throw new CliException($"--issuer: no issuer '{id}' is registered");
                case IssuerDenyListOutcome.Refused refused:
                    throw new CliException($"--file {path}: {refused.Detail}");
                default:
                    throw new InvalidOperationException("unknown outcome");
            }
        });
        return command;
    }
}
