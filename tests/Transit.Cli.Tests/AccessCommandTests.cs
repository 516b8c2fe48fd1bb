using Transit.Simulation;

namespace Transit.Cli.Tests;

/// <summary>
/// <c>transit tokens</c>, <c>transit devices add</c> and <c>transit clearing statement</c> against a real embedded
/// PostgreSQL cluster with the synthetic city's feed imported, run as a user runs them.
/// </summary>
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

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private async Task<string> RunOkAsync(params string[] args)
    {
        var withData = args[0] == "keys" ? args : [.. args, "--data", _data];
        var (exit, output, error) = await CliProcess.RunAsync(withData);
        Assert.True(exit == 0, $"{string.Join(' ', args)}: exit {exit}\n{output}\n{error}");
        return output;
    }
}
