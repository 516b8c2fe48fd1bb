using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing;
using Transit.Clearing.Access;
using Transit.Clearing.Devices;

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
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder for the certificate and key (default: KEYS/devices)" };
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
            foreach (var d in await services.GetRequiredService<DeviceRegistry>().ListAsync(null, cancellation))
            {
                Console.WriteLine($"{d.DeviceId}\t{d.OperatorId}\t{d.Mode}\t{d.StationId ?? d.StopId ?? "-"}\t{d.RouteId ?? "-"}\t{(d.RevokedAt is null ? "active" : "revoked")}");
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
        var role = new Option<string>("--role") { Description = "admin, operator or planner", Required = true };
        role.AcceptOnlyFromAmong(Roles.Admin, Roles.Operator, Roles.Planner);
        var operatorId = new Option<string?>("--operator") { Description = "The operator an operator token is for" };
        var description = new Option<string?>("--description") { Description = "What the token is for" };
        var create = new Command("create", "Create a token; it is printed once and stored only as a SHA-256 hash") { role, operatorId, description };
        create.SetAction(async (parsed, cancellation) =>
        {
            await using var services = await ClearingHost.BuildServicesAsync(db.Read(parsed));
            await using var database = services.GetRequiredService<ClearingDatabase>();
            try
            {
                Console.WriteLine(await services.GetRequiredService<TokenStore>().CreateAsync(
                    parsed.GetValue(role)!, parsed.GetValue(operatorId), parsed.GetValue(description), cancellation));
            }
            catch (ArgumentException ex)
            {
                throw new CliException(ex.Message.Split(" (Parameter", 2)[0]);
            }

            return 0;
        });
        tokens.Subcommands.Add(create);
        return tokens;
    }
}
