using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing;
using Transit.Clearing.Access;
using Transit.Clearing.Devices;
using Transit.Clearing.Hosting;

namespace Transit.Cli;

/// <summary><c>transit devices</c>: register gates and validators, issue their certificates, revoke them.</summary>
internal static class DevicesCommands
{
    public static Command Create()
    {
        var db = new DatabaseOptions();
        var devices = new Command("devices", "Register gates and bus validators (client certificates from the device CA) and revoke them");
        db.AddTo(devices);
        devices.Subcommands.Add(Add(db));
        devices.Subcommands.Add(Revoke(db));
        devices.Subcommands.Add(List(db));
        return devices;
    }

    private static Command Add(DatabaseOptions db)
    {
        var id = new Option<string>("--id") { Description = "Device id (the certificate's CN)", Required = true };
        var operatorId = new Option<string>("--operator") { Description = "Operator (GTFS agency_id)", Required = true };
        var station = new Option<string?>("--station") { Description = "Station (GTFS stop_id) of a metro gate" };
        var stop = new Option<string?>("--stop") { Description = "Stop (GTFS stop_id) of a bus validator" };
        var route = new Option<string?>("--route") { Description = "Route (GTFS route_id) of a bus validator" };
        var mode = new Option<string?>("--mode") { Description = "metro-entry, metro-exit, bus or bus-exit (a bus tap-off validator, for fares that need the alighting stop; default: metro-entry with --station, bus otherwise)" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder under which the device's own folder (ID/device.crt.pem, device.key.pem, ca.crt.pem) is written (default: KEYS/devices)" };
        var command = new Command("add", "Register a device and issue its client certificate (PEM certificate and key)") { id, operatorId, station, stop, route, mode, output };
        command.SetAction(async (parsed, cancellation) =>
        {
            var options = db.Read(parsed);
            if (parsed.GetValue(station) is null && parsed.GetValue(route) is null)
            {
                throw new CliException("give --station for a metro gate, or --route (and --stop) for a bus validator");
            }

            await using var services = await ClearingHost.BuildServicesAsync(options);
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var folder = parsed.GetValue(output)?.FullName ?? Path.Combine(options.KeyDirectory!, "devices");
            var (device, certificate, key) = await services.GetRequiredService<DeviceRegistry>().AddAsync(
                new DeviceRegistration(parsed.GetValue(id)!, parsed.GetValue(operatorId)!, parsed.GetValue(mode), parsed.GetValue(station), parsed.GetValue(stop), parsed.GetValue(route)),
                folder, cancellation);
            Console.WriteLine($"device {device.DeviceId} ({device.Mode}, operator {device.OperatorId}) registered");
            Console.WriteLine($"  certificate {certificate}");
            Console.WriteLine($"  key         {key}");
            Console.WriteLine($"  copy the files of {Path.GetDirectoryName(certificate)} to the gate's /etc/transit-gate/ (docs/gate-install.md, section 2)");
            return 0;
        });
        return command;
    }

    private static Command Revoke(DatabaseOptions db)
    {
        var id = new Option<string>("--id") { Description = "Device id", Required = true };
        var command = new Command("revoke", "Revoke a device: its certificate is refused from now on") { id };
        command.SetAction(async (parsed, cancellation) =>
        {
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            if (!await services.GetRequiredService<DeviceRegistry>().RevokeAsync(parsed.GetValue(id)!, cancellation))
            {
                throw new CliException($"no device {parsed.GetValue(id)} is registered");
            }

            Console.WriteLine($"device {parsed.GetValue(id)} revoked");
            return 0;
        });
        return command;
    }

    private static Command List(DatabaseOptions db)
    {
        var command = new Command("list", "List the registered devices");
        command.SetAction(async (parsed, cancellation) =>
        {
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            Console.WriteLine("device\toperator\tmode\tstation_or_stop\troute\tstate");
            foreach (var d in await services.GetRequiredService<DeviceRegistry>().ListAsync(null, cancellation))
            {
                Console.WriteLine($"{d.DeviceId}\t{d.OperatorId}\t{d.Mode}\t{d.StationId ?? d.StopId ?? "-"}\t{d.RouteId ?? "-"}\t{(d.RevokedAt is null ? "active" : "revoked")}");
            }

            return 0;
        });
        return command;
    }
}

/// <summary><c>transit operators</c>: the operators (GTFS agencies) devices, tokens and statements are named by.</summary>
internal static class OperatorsCommand
{
    public static Command Create()
    {
        var db = new DatabaseOptions();
        var command = new Command("operators", "List the operators of the imported GTFS feeds: id (agency_id), name, time zone, active devices");
        db.AddTo(command);
        command.SetAction(async (parsed, cancellation) =>
        {
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var operators = await services.GetRequiredService<Transit.Clearing.Gtfs.GtfsImporter>().OperatorsAsync(cancellation);
            if (operators.Count == 0)
            {
                throw new CliException("no operator is known yet: import a feed with 'transit clearing import-gtfs --feed DIR'", CliApp.NotFound);
            }

            Console.WriteLine("operator\tname\ttime_zone\tdevices");
            foreach (var o in operators)
            {
                Console.WriteLine(string.Join('\t', o.OperatorId, TokensCommands.OneLine(o.Name), o.TimeZone, o.Devices.ToString(CultureInfo.InvariantCulture)));
            }

            return 0;
        });
        return command;
    }
}

/// <summary><c>transit tokens</c>: API bearer tokens.</summary>
internal static class TokensCommands
{
    public static Command Create()
    {
        var db = new DatabaseOptions();
        var tokens = new Command("tokens", "API bearer tokens for the clearing API");
        db.AddTo(tokens);
        tokens.Subcommands.Add(CreateToken(db));
        tokens.Subcommands.Add(List(db));
        tokens.Subcommands.Add(Revoke(db));
        return tokens;
    }

    private static Command CreateToken(DatabaseOptions db)
    {
        var role = new Option<string>("--role") { Description = "admin, operator or planner", Required = true };
        role.AcceptOnlyFromAmong(Roles.Admin, Roles.Operator, Roles.Planner);
        var operatorId = new Option<string?>("--operator") { Description = "The operator an operator token is for (an agency_id of the imported feed)" };
        var description = new Option<string?>("--description") { Description = "What the token is for" };
        var expiresDays = new Option<int>("--expires-days")
        {
            Description = $"Days until the token expires (1 to {TokenStore.MaximumExpiryDays})",
            DefaultValueFactory = _ => TokenStore.DefaultExpiryDays,
        };
        var create = new Command("create", "Create a token; it is printed once (with its role and expiry) and stored only as a SHA-256 hash")
        {
            role, operatorId, description, expiresDays,
        };
        create.SetAction(async (parsed, cancellation) =>
        {
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            IssuedToken issued;
            try
            {
                issued = await services.GetRequiredService<TokenStore>().IssueAsync(
                    parsed.GetValue(role)!, parsed.GetValue(operatorId), parsed.GetValue(description), parsed.GetValue(expiresDays), cancellation);
            }
            catch (ArgumentException ex)
            {
                throw CliException.From(ex);
            }

            // The token alone on the first line, so that scripts can take it with head -1.
            Console.WriteLine(issued.Token);
            Console.WriteLine($"id {issued.Info.Id}, role {issued.Info.Role}{(issued.Info.OperatorId is { } op ? $", operator {op}" : "")}, expires {Iso(issued.Info.ExpiresAt)}");
            return 0;
        });
        return create;
    }

    private static Command List(DatabaseOptions db)
    {
        var command = new Command("list", "List the tokens (never their secrets): id, role, operator, created, expires, revoked, description");
        command.SetAction(async (parsed, cancellation) =>
        {
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            var now = DateTimeOffset.UtcNow;
            Console.WriteLine("id\trole\toperator\tcreated\texpires\trevoked\tstate\tdescription");
            foreach (var t in await services.GetRequiredService<TokenStore>().ListAsync(cancellation))
            {
                var state = t.RevokedAt is not null ? "revoked" : t.ExpiresAt <= now ? "expired" : "active";
                Console.WriteLine(string.Join('\t', t.Id.ToString(CultureInfo.InvariantCulture), t.Role, t.OperatorId ?? "-", Iso(t.CreatedAt), Iso(t.ExpiresAt),
                    t.RevokedAt is { } revoked ? Iso(revoked) : "-", state, OneLine(t.Description)));
            }

            return 0;
        });
        return command;
    }

    private static Command Revoke(DatabaseOptions db)
    {
        var id = new Option<long>("--id") { Description = "The token's id (from transit tokens list)", Required = true };
        var command = new Command("revoke", "Revoke a token: it is refused (401) from now on") { id };
        command.SetAction(async (parsed, cancellation) =>
        {
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            if (!await services.GetRequiredService<TokenStore>().RevokeAsync(parsed.GetValue(id), cancellation))
            {
                throw new CliException($"no token has id {parsed.GetValue(id)} (see transit tokens list)", CliApp.NotFound);
            }

            Console.WriteLine($"token {parsed.GetValue(id)} revoked");
            return 0;
        });
        return command;
    }

    private static string Iso(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    // A description is free text from whoever made the token: one line, so that it cannot forge rows of the listing.
    public static string OneLine(string? text) => text is null ? "-" : string.Concat(text.Select(c => char.IsControl(c) ? ' ' : c));
}
