using System.Security.Cryptography.X509Certificates;
using Transit.Simulation;

namespace Transit.Cli.Tests;

/// <summary>
/// What an operator's engineer runs, following docs/operations.md: <c>transit tokens</c>, <c>devices</c>,
/// <c>operators</c>, <c>clearing import-gtfs|feeds|statement</c> and <c>keys server-cert</c>, against a real embedded
/// PostgreSQL cluster with the synthetic city's feed imported, run as a user runs them.
/// </summary>
[Trait("Category", "Process")]
public sealed class AccessCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "transit-cli-access-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public async Task TokensDevicesStatement_UnknownNamesRefusedTokensListedWithoutSecretsAndRevoked()
    {
        var feed = Path.Combine(_data, "feed");
        SyntheticCity.Write(feed);
        await RunOkAsync("keys", "init", "--dir", Path.Combine(_data, "keys"));
        await RunOkAsync("clearing", "import-gtfs", "--feed", feed);

        // Names that the feed does not have: refused, naming them, exit 3.
        foreach (var (args, named) in new[]
        {
            (new[] { "tokens", "create", "--role", "operator", "--operator", "tram" }, "'tram'"),
            (["devices", "add", "--id", "g1", "--operator", "metro", "--station", "=cmd|' /C calc'!A0"], "--station"),
            (["devices", "add", "--id", "b1", "--operator", "bus", "--route", "B99"], "--route 'B99'"),
            (["clearing", "statement", "--operator", "tram", "--date", "2026-11-18"], "'tram'"),
            (["tokens", "revoke", "--id", "42"], "42"),
        })
        {
            var (exit, output, error) = await CliProcess.RunAsync([.. args, "--data", _data]);
            Assert.True(exit == 3, $"{string.Join(' ', args)}: exit {exit}\n{output}\n{error}");
            Assert.Contains(named, error, StringComparison.Ordinal);
        }

        // A token: printed once with its role and expiry; listed without its secret; revoked.
        var created = (await RunOkAsync("tokens", "create", "--role", "operator", "--operator", "bus", "--expires-days", "7", "--description", "night\nshift")).Split('\n');
        Assert.StartsWith("trt_", created[0], StringComparison.Ordinal);
        Assert.Matches(@"^id 1, role operator, operator bus, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", created[1]);
        var expires = DateTimeOffset.Parse(created[1][(created[1].LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromDays(6.9), TimeSpan.FromDays(7));
        Assert.Equal(2, (await CliProcess.RunAsync(["tokens", "create", "--role", "planner", "--expires-days", "0", "--data", _data])).ExitCode);

        var listed = await RunOkAsync("tokens", "list");
        Assert.DoesNotContain(created[0], listed, StringComparison.Ordinal);
        var row = listed.Split('\n')[1].Split('\t');
        Assert.Equal(["1", "operator", "bus"], row[..3]);
        Assert.Equal(["-", "active", "night shift"], row[5..]);

        Assert.Equal("token 1 revoked\n", await RunOkAsync("tokens", "revoke", "--id", "1"));
        Assert.Equal("revoked", (await RunOkAsync("tokens", "list")).Split('\n')[1].Split('\t')[6]);
    }

    [Fact]
    public async Task Pilot_FeedsOperatorsDeviceFilesServerCertificateAndStatement()
    {
        var feed = Path.Combine(_data, "feed");
        SyntheticCity.Write(feed);
        var keys = Path.Combine(_data, "keys");
        await RunOkAsync("keys", "init", "--dir", keys);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById(SyntheticCity.TimeZone)).DateTime);

        // Without --valid-from a feed applies from today; the import names the operators it brought.
        var imported = await RunOkAsync("clearing", "import-gtfs", "--feed", feed);
        Assert.StartsWith($"feed 1 valid from {today:yyyy-MM-dd}: 2 operators (bus, metro),", imported, StringComparison.Ordinal);
        await RunOkAsync("clearing", "import-gtfs", "--feed", feed, "--valid-from", "2026-01-01");
        await RunOkAsync("clearing", "import-gtfs", "--feed", feed, "--valid-from", "2099-01-01");
        var feeds = Rows(await RunOkAsync("clearing", "feeds"));
        Assert.Equal(["feed", "valid_from", "state", "imported_at", "sha256", "source"], feeds[0]);
        Assert.Equal(
            [("2026-01-01", "superseded"), ($"{today:yyyy-MM-dd}", "in force"), ("2099-01-01", "future")],
            feeds.Skip(1).Select(r => (r[1], r[2])));
        Assert.All(feeds.Skip(1), r => Assert.Equal(Path.GetFullPath(feed), r[5]));

        // A device's files come in its own folder, named as the gate's /etc/transit-gate/ expects them.
        var added = await RunOkAsync("devices", "add", "--id", "g1", "--operator", "metro", "--station", "CEN");
        var bundle = Path.Combine(keys, "devices", "g1");
        Assert.Contains($"copy the files of {bundle} to the gate's /etc/transit-gate/", added, StringComparison.Ordinal);
        Assert.Equal(["ca.crt.pem", "device.crt.pem", "device.key.pem"], Directory.GetFiles(bundle).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using (var device = X509Certificate2.CreateFromPemFile(Path.Combine(bundle, "device.crt.pem"), Path.Combine(bundle, "device.key.pem")))
        using (var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(bundle, "ca.crt.pem"))))
        {
            Assert.Equal("g1", device.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
            Assert.Equal(ca.Subject, device.Issuer);
            Assert.Equal(File.ReadAllText(Path.Combine(keys, "ca.crt.pem")), File.ReadAllText(Path.Combine(bundle, "ca.crt.pem")));
        }

        // An id that would name a path elsewhere is refused before anything is registered.
        foreach (var hostile in new[] { "../escape", ".hidden", "a b", "x\ny" })
        {
            var (exit, _, error) = await CliProcess.RunAsync(["devices", "add", "--id", hostile, "--operator", "metro", "--station", "CEN", "--data", _data]);
            Assert.True(exit == 2, $"--id {hostile}: exit {exit}");
            Assert.Contains("--id may not", error, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(keys, "escape")));
        var devices = Rows(await RunOkAsync("devices", "list"));
        Assert.Equal(["device", "operator", "mode", "station_or_stop", "route", "state"], devices[0]);
        Assert.Equal(["g1", "metro", "metro-entry", "CEN", "-", "active"], Assert.Single(devices.Skip(1)));

        var operators = Rows(await RunOkAsync("operators"));
        Assert.Equal(["operator", "name", "time_zone", "devices"], operators[0]);
        Assert.Equal([("bus", SyntheticCity.TimeZone, "0"), ("metro", SyntheticCity.TimeZone, "1")], operators.Skip(1).Select(r => (r[0], r[2], r[3])));

        // The server certificate for the names gates use, still issued by the device CA the gates trust.
        var issued = await RunOkAsync("keys", "server-cert", "--dir", keys, "--host", "clearing.example.org", "--host", "10.0.0.5");
        Assert.Contains("for clearing.example.org, 10.0.0.5, localhost, 127.0.0.1, ::1", issued, StringComparison.Ordinal);
        using (var server = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(keys, "server.crt.pem"))))
        {
            Assert.Equal("clearing.example.org", server.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
            Assert.True(server.MatchesHostname("clearing.example.org"));
            Assert.True(server.MatchesHostname("10.0.0.5"));
            Assert.False(server.MatchesHostname("other.example.org"));
        }

        foreach (var hostile in new[] { "bad host", "-lead.example.org", "a..b", "" })
        {
            var (exit, _, error) = await CliProcess.RunAsync(["keys", "server-cert", "--dir", keys, "--host", hostile]);
            Assert.True(exit == 2, $"--host '{hostile}': exit {exit}");
            Assert.Contains("--host", error, StringComparison.Ordinal);
        }

        // A day with no charges yet still states the feed's currency; journeys and legs are on the total row.
        var statement = Rows(await RunOkAsync("clearing", "statement", "--operator", "metro", "--date", $"{today:yyyy-MM-dd}"), ',');
        Assert.Equal(["operator_id", "service_day", "currency", "kind", "charges", "gross", "fee", "net", "journeys", "legs"], statement[0]);
        Assert.Equal(["metro", $"{today:yyyy-MM-dd}", "EUR", "total", "0", "0", "0", "0", "0", "0"], Assert.Single(statement.Skip(1)));
    }

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private static List<string[]> Rows(string output, char separator = '\t') =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(separator))];

    private async Task<string> RunOkAsync(params string[] args)
    {
        var withData = args[0] == "keys" ? args : [.. args, "--data", _data];
        var (exit, output, error) = await CliProcess.RunAsync(withData);
        Assert.True(exit == 0, $"{string.Join(' ', args)}: exit {exit}\n{output}\n{error}");
        return output;
    }
}
