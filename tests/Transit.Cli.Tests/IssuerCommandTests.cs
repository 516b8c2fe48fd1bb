using Transit.Simulation;

namespace Transit.Cli.Tests;

/// <summary>
/// <c>transit issuers add|update|accept|list</c> and <c>transit clearing statement --issuer</c> as an operator's
/// engineer runs them (docs/interoperability.md), against a real embedded PostgreSQL cluster.
/// </summary>
[Trait("Category", "Process")]
public sealed class IssuerCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "transit-cli-issuers-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public async Task AddAcceptListStatement_RefusalsNameWhatIsWrong()
    {
        var feed = Path.Combine(_data, "feed");
        SyntheticCity.Write(feed);
        var nat = Path.Combine(_data, "nat");
        await RunOkAsync("keys", "init", "--dir", Path.Combine(_data, "keys"));
        await RunOkAsync("keys", "init", "--dir", nat, "--alg", "sm2", "--issuer", "nat");
        await RunOkAsync("clearing", "import-gtfs", "--feed", feed, "--valid-from", "2026-11-01");

        // The operator's own key set names no issuer: refused, naming the file.
        var (exit, _, error) = await RunAsync("issuers", "add", "--root", Path.Combine(_data, "keys", "root.pub.json"), "--keyset", Path.Combine(_data, "keys", "keyset.json"), "--name", "Own");
        Assert.True(exit == 2, error);
        Assert.Contains(Path.Combine(_data, "keys", "keyset.json") + ": the key set names no issuer id", error, StringComparison.Ordinal);

        Assert.Equal(
            "issuer nat (National wallet, sm2) registered with key set version 1\n",
            (await RunOkAsync("issuers", "add", "--root", Path.Combine(nat, "root.pub.json"), "--keyset", Path.Combine(nat, "keyset.json"), "--name", "National wallet")).Split("  ")[0]);
        Assert.Equal(3, (await RunAsync("issuers", "accept", "--operator", "tram", "--issuer", "nat", "--from", "2026-11-01", "--fee-bps", "200")).ExitCode);
        var badFee = await RunAsync("issuers", "accept", "--operator", "metro", "--issuer", "nat", "--from", "2026-11-01", "--fee-bps", "10001");
        Assert.Equal(2, badFee.ExitCode);
        Assert.Contains("fee 10001 basis points is outside 0 to 10000", badFee.Error, StringComparison.Ordinal);
        Assert.Equal(
            "operator metro accepts issuer nat from 2026-11-01 until 2027-01-01 (exclusive), fee 200 basis points\n",
            await RunOkAsync("issuers", "accept", "--operator", "metro", "--issuer", "nat", "--from", "2026-11-01", "--to", "2027-01-01", "--fee-bps", "200"));

        var list = await RunOkAsync("issuers", "list");
        Assert.Equal("issuer\tname\talgorithm\tkey_set_version\toperator\tfrom\tto\tfee_bps\nnat\tNational wallet\tsm2\t1\tmetro\t2026-11-01\t2027-01-01\t200\n", list);

        Assert.Equal(
            "issuer_id,service_day,currency,kind,operator_id,account,journey_no,gross,fee_basis_points,fee,net\nnat,2026-11-18,EUR,total,,,,0,,0,0\n",
            (await RunOkAsync("clearing", "statement", "--issuer", "nat", "--date", "2026-11-18")).ReplaceLineEndings("\n"));
        var unknown = await RunAsync("clearing", "statement", "--issuer", "zzz", "--date", "2026-11-18");
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("--issuer 'zzz' is not registered", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await RunAsync("clearing", "statement", "--issuer", "nat", "--operator", "metro", "--date", "2026-11-18")).ExitCode);
    }

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) =>
        CliProcess.RunAsync(args[0] == "keys" ? args : [.. args, "--data", _data]);

    private async Task<string> RunOkAsync(params string[] args)
    {
        var (exit, output, error) = await RunAsync(args);
        Assert.True(exit == 0, $"{string.Join(' ', args)}: exit {exit}\n{output}\n{error}");
        return output;
    }
}
