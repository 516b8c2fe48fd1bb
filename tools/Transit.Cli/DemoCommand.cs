using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing.Access;
using Transit.Clearing.Database;
using Transit.Cli.Simulation;
using Transit.Simulation.Harness;

namespace Transit.Cli;

/// <summary>
/// <c>transit demo</c>: the whole system on one machine with nothing configured. The embedded PostgreSQL, the
/// clearing server and a gate agent for every gate and bus of the synthetic city; one service day of about 50,000
/// taps played through them in a couple of minutes; the day cleared; a summary; then the dashboard, the wallet and the
/// gate scanner stay up, so that a person can ride through the same gates.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var sizes = new SimCommand.SizeOptions(riders: 12_500, duration: 120, issuers: 3);
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "Run folder, emptied first (default: .transit/demo of the repository)" };
        var exit = new Option<bool>("--exit") { Description = "Stop everything after the summary instead of leaving the dashboard running" };
        var port = new Option<int>("--port") { Description = "Port of the API and dashboard (another free port when it is taken)", DefaultValueFactory = _ => 8080 };
        var lan = new Option<int?>("--lan") { Description = "Also serve the API and the riders' wallet over HTTPS on every interface at this port, for phones on the same network" };
        var command = new Command("demo", "Run a city's service day on real processes: PostgreSQL, clearing, gate agents; clear it, print a summary, keep the dashboard up")
        {
            dir, exit, port, lan,
        };
        foreach (var option in sizes.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parsed, cancellation) =>
        {
            var folder = parsed.GetValue(dir)?.FullName ?? Path.Combine(ProjectPaths.DataFolder(), "demo");
            var lanPort = parsed.GetValue(lan);
            // A phone's browser gives WebCrypto only to secure pages: the wallet on the network is served over HTTPS.
            var settings = sizes.Read(parsed, folder) with
            {
                ApiUrls = lanPort is { } p
                    ? [SimCommand.LoopbackUrl(parsed.GetValue(port)), string.Create(CultureInfo.InvariantCulture, $"https://0.0.0.0:{p}")]
                    : [SimCommand.LoopbackUrl(parsed.GetValue(port))],
                ServeGateScanner = true,
            };
            Console.WriteLine($"Transit demo: {settings.Riders:N0} riders of the synthetic city, one service day through real gate agents and clearing; run folder {folder}");
            await RunFolder.PrepareFreshAsync(folder, cancellation);
            var progress = new SimulationProgress();
            await using var run = await ProgressDisplay.RunAsync(progress, () => CityRun.StartAsync(settings, progress, cancellation));
            var day = run.Days[0];
            var (played, clearing) = await ProgressDisplay.RunAsync(progress, async () =>
            {
                var played = await run.PlayDayAsync(day, progress, cancellation);
                return (played, await run.ClearDayAsync(day, progress, cancellation));
            });
            Console.WriteLine();
            Console.Write(await DayReport.BuildAsync(run, played, clearing, cancellation));

            Console.WriteLine();
            Console.WriteLine($"  ground truth {run.Truth.Folder}");
            if (parsed.GetValue(exit))
            {
                // Links and tokens of a server that stops with this command would only mislead.
                return clearing.Balanced ? 0 : 1;
            }

            var api = run.Clearing.ApiUrls[0];
            if (await DayReport.DashboardAsync(run, cancellation) is { } dashboard)
            {
                var planner = await run.Clearing.Services.GetRequiredService<TokenStore>().CreateAsync(Roles.Planner, null, "transit demo", cancellation);
                Console.WriteLine($"  dashboard   {dashboard}?from={day:yyyy-MM-dd}   (sign in with the admin token below, or as a planner, who sees aggregates only: {planner})");
            }

            Console.WriteLine($"  API         {api}api/days/{day:yyyy-MM-dd}   (header 'Authorization: Bearer {run.AdminToken}')");
            Console.WriteLine($"  fleet       {api}api/fleet");
            Console.WriteLine($"  wallet      {api}wallet/   (a rider's phone: sign up, show the code to a gate: docs/rider.md)");
            Console.WriteLine($"  gate        {api}demo/scan/   (a gate reading codes with this computer's camera: pick the station, show the wallet's code)");
            if (lanPort is { } onNetwork)
            {
                foreach (var address in LanAddresses())
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  wallet      https://{address}:{onNetwork}/wallet/   (on the same network; the certificate is the operator's own CA's: accept it on the phone)"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  gate        https://{address}:{onNetwork}/demo/scan/   (on the same network: another phone's camera as the gate)"));
                }
            }

            Console.WriteLine("Running; Ctrl+C stops the clearing server (and dashboard), the gate agents and PostgreSQL.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellation);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("stopping ...");
            }

            return clearing.Balanced ? 0 : 1;
        });
        return command;
    }

    /// <summary>This machine's IPv4 addresses that a phone on the same network can reach.</summary>
    private static IEnumerable<System.Net.IPAddress> LanAddresses() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up && n.NetworkInterfaceType != System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a));
}
