using System.Text.Json;

namespace Transit.Cli.Tests;

/// <summary>The command-line contract of issue 2: keys, deny, codes — outputs and exit statuses.</summary>
[Trait("Category", "Process")]
public sealed class CodesCommandTests : IDisposable
{
    private const string At = "2026-11-21T08:30:00Z";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "transit-cli-" + Guid.NewGuid().ToString("N"));

    private string Keys => Path.Combine(_dir, "keys");

    private string KeySet => Path.Combine(Keys, "keyset.json");

    [Fact]
    public async Task CodesVerify_FullFlow_AcceptsThenReportsReplayDenialAndRevocation()
    {
        await Ok("keys", "init", "--dir", Keys);
        var credential = Path.Combine(_dir, "alice.json");
        await Ok("codes", "credential", "--keys", Keys, "--account", "alice", "--category", "1", "--not-before", "2026-11-21T06:00:00Z", "--out", credential);
        var code = (await Ok("codes", "show", "--credential", credential, "--at", At)).Trim();
        Assert.StartsWith("TR1:", code, StringComparison.Ordinal);
        Assert.True(code.Length <= 300);

        var accepted = await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "--at", At, code]);
        Assert.Equal(0, accepted.ExitCode);
        var json = JsonDocument.Parse(accepted.Output).RootElement;
        Assert.True(json.GetProperty("accepted").GetBoolean());
        Assert.Equal("ok", json.GetProperty("reason").GetString());
        Assert.Equal("alice", json.GetProperty("account").GetString());
        Assert.Equal("1", json.GetProperty("category").GetString());

        var stdin = await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "--at", At, "-"], $"{code}\n{code}\nnot-a-code\n");
        Assert.Equal(1, stdin.ExitCode);
        Assert.Equal(["ok", "replayed", "malformed"], Reasons(stdin.Output));

        await Ok("deny", "add", "--dir", Keys, "--account", "alice");
        var denyFile = Path.Combine(_dir, "deny.json");
        await Ok("deny", "export", "--dir", Keys, "--out", denyFile);
        var denied = await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "--denylist", denyFile, "--at", At, code]);
        Assert.Equal(1, denied.ExitCode);
        Assert.Equal(["denied"], Reasons(denied.Output));

        await Ok("keys", "rotate", "--dir", Keys);
        Assert.Equal(["ok"], Reasons((await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "--at", At, code])).Output));
        await Ok("keys", "revoke", "--dir", Keys, "--kid", "1");
        Assert.Equal(["revoked-key"], Reasons((await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "--at", At, code])).Output));
    }

    [Fact]
    public async Task CodesVerify_AtOption_GivesStaleFutureAndValidityReasons()
    {
        await Ok("keys", "init", "--dir", Keys, "--alg", "sm2");
        var credential = Path.Combine(_dir, "bob.json");
        await Ok("codes", "credential", "--keys", Keys, "--account", "bob", "--valid-hours", "2", "--not-before", "2026-11-21T08:00:00Z", "--out", credential);
        var code = (await Ok("codes", "show", "--credential", credential, "--at", At)).Trim();

        async Task<string> ReasonAt(string at) =>
            Reasons((await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "--at", at, code])).Output).Single();

        Assert.Equal("ok", await ReasonAt("2026-11-21T08:30:20Z"));
        Assert.Equal("stale", await ReasonAt("2026-11-21T08:31:01Z"));
        Assert.Equal("future", await ReasonAt("2026-11-21T08:29:29Z"));
        Assert.Equal("credential-expired", await ReasonAt("2026-11-21T10:00:00Z"));
        Assert.Equal("credential-not-yet-valid", await ReasonAt("2026-11-21T07:59:59Z"));
    }

    [Fact]
    public async Task CodesShow_PngOption_WritesQrImage()
    {
        await Ok("keys", "init", "--dir", Keys);
        var credential = Path.Combine(_dir, "c.json");
        await Ok("codes", "credential", "--keys", Keys, "--account", "png", "--out", credential);
        var png = Path.Combine(_dir, "code.png");
        await Ok("codes", "show", "--credential", credential, "--png", png);
        var header = File.ReadAllBytes(png)[..8];
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, header);
    }

    [Fact]
    public async Task CodesShow_AtOutsideTheCredential_SaysWhenItIsValidInItsOwnWords()
    {
        await Ok("keys", "init", "--dir", Keys);
        var credential = Path.Combine(_dir, "c.json");
        await Ok("codes", "credential", "--keys", Keys, "--account", "early", "--not-before", "2026-11-21T08:00:00Z", "--valid-hours", "2", "--out", credential);

        var early = await CliProcess.RunAsync(["codes", "show", "--credential", credential, "--at", "2026-11-21T07:59:00Z"]);
        Assert.Equal(2, early.ExitCode);
        Assert.Equal(
            "transit: --at 2026-11-21T07:59:00Z is before the credential's start (2026-11-21T08:00:00Z): it shows codes from then until 2026-11-21T10:00:00Z\n",
            early.Error);

        var late = await CliProcess.RunAsync(["codes", "show", "--credential", credential, "--at", "2026-11-21T10:00:00Z"]);
        Assert.Equal(0, late.ExitCode);
        Assert.StartsWith("transit: warning: the credential expired at 2026-11-21T10:00:00Z", late.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("codes", "verify")]
    [InlineData("codes", "verify", "--keyset")]
    [InlineData("keys", "init")]
    [InlineData("keys", "init", "--dir", "x", "--alg", "rsa")]
    [InlineData("codes", "verify", "--keyset", "/nonexistent/keyset.json", "TR1:AB")]
    [InlineData("codes", "show", "--credential", "/nonexistent/cred.json")]
    [InlineData("keys", "list", "--dir", "/nonexistent")]
    public async Task UsageOrInputError_ExitsWith2AndNamesTheProblem(params string[] args)
    {
        var result = await CliProcess.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("transit: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodesVerify_TamperedKeySet_ExitsWith2NamingTheFile()
    {
        await Ok("keys", "init", "--dir", Keys);
        var text = File.ReadAllText(KeySet);
        var envelope = JsonDocument.Parse(text).RootElement;
        var payload = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(envelope.GetProperty("payload").GetString()!));
        var forged = text.Replace(envelope.GetProperty("payload").GetString()!, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(payload.Replace("\"version\":1", "\"version\":9", StringComparison.Ordinal))), StringComparison.Ordinal);
        File.WriteAllText(KeySet, forged);

        var result = await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "TR1:AB"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("keyset.json", result.Error, StringComparison.Ordinal);
        Assert.Contains("signature does not verify", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodesCredential_TooLongForAQrCode_ExitsWith2()
    {
        await Ok("keys", "init", "--dir", Keys);
        var result = await CliProcess.RunAsync(["codes", "credential", "--keys", Keys, "--account", "an-account-token", "--category", "senior", "--out", Path.Combine(_dir, "x.json")]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("300-character", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodesCredential_ValidLongerThanVerifiersAccept_ExitsWith2NamingTheCap()
    {
        await Ok("keys", "init", "--dir", Keys);
        var atCap = Path.Combine(_dir, "week.json");
        await Ok("codes", "credential", "--keys", Keys, "--account", "week", "--valid-hours", "168", "--out", atCap);
        Assert.True(File.Exists(atCap));

        var longer = Path.Combine(_dir, "longer.json");
        var result = await CliProcess.RunAsync(["codes", "credential", "--keys", Keys, "--account", "longer", "--valid-hours", "169", "--out", longer]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--valid-hours 169", result.Error, StringComparison.Ordinal);
        Assert.Contains("168 hours", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(longer));
    }

    [Fact]
    public async Task CodesVerify_SeveralKeySets_NamesEachCodesIssuerAndRefusesTheOthers()
    {
        var wallet = Path.Combine(_dir, "wallet");
        var card = Path.Combine(_dir, "card");
        await Ok("keys", "init", "--dir", Keys);
        Assert.Contains("issuer nw", await Ok("keys", "init", "--dir", wallet, "--issuer", "nw", "--alg", "sm2"), StringComparison.Ordinal);
        await Ok("keys", "init", "--dir", card, "--issuer", "card");
        var codes = new List<string>();
        foreach (var (dir, account) in new[] { (Keys, "alice"), (wallet, "alice"), (card, "carl") })
        {
            var file = Path.Combine(_dir, $"{Path.GetFileName(dir)}-{account}.json");
            await Ok("codes", "credential", "--keys", dir, "--account", account, "--not-before", "2026-11-21T06:00:00Z", "--out", file);
            codes.Add((await Ok("codes", "show", "--credential", file, "--at", At)).Trim());
        }

        Assert.StartsWith("TR1:", codes[0], StringComparison.Ordinal);
        Assert.StartsWith("TR2:", codes[1], StringComparison.Ordinal);
        var all = await CliProcess.RunAsync(
            ["codes", "verify", "--keyset", KeySet, "--keyset", Path.Combine(wallet, "keyset.json"), "--keyset", Path.Combine(card, "keyset.json"), "--at", At, "-"],
            string.Join('\n', codes) + "\n");
        Assert.Equal(0, all.ExitCode);
        var lines = all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["home", "nw", "card"], lines.Select(l => l.GetProperty("issuer").GetString()));
        Assert.Equal(["ok", "ok", "ok"], lines.Select(l => l.GetProperty("reason").GetString()));

        // Without the card's key set its code names an issuer the verifier does not accept.
        var without = await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "--keyset", Path.Combine(wallet, "keyset.json"), "--at", At, codes[2]]);
        Assert.Equal(1, without.ExitCode);
        var refused = JsonDocument.Parse(without.Output).RootElement;
        Assert.Equal(("unknown-issuer", "card"), (refused.GetProperty("reason").GetString(), refused.GetProperty("issuer").GetString()));

        var twice = await CliProcess.RunAsync(["codes", "verify", "--keyset", KeySet, "--keyset", KeySet, "--at", At, codes[0]]);
        Assert.Equal(2, twice.ExitCode);
        Assert.Contains("issuer 'home' is given twice", twice.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysInit_BadIssuerId_ExitsWith2NamingTheRule()
    {
        var result = await CliProcess.RunAsync(["keys", "init", "--dir", Keys, "--issuer", "City"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("issuer id 'City'", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(KeySet));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static string[] Reasons(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("reason").GetString()!)];

    [Fact]
    public async Task DenyAdd_AccountAlreadyDenied_SaysSoAndNamesTheClearingApi()
    {
        await Ok("keys", "init", "--dir", Keys);
        await Ok("deny", "add", "--dir", Keys, "--account", "carol");

        var again = await CliProcess.RunAsync(["deny", "add", "--dir", Keys, "--account", "carol", "--account", "dave"]);

        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already on the deny list: carol.", again.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("dave", again.Error, StringComparison.Ordinal);
        Assert.Contains("POST /api/accounts/ACCOUNT/deny", again.Error, StringComparison.Ordinal);
        Assert.Contains("deny list version 3", again.Output, StringComparison.Ordinal);
    }

    private static async Task<string> Ok(params string[] args)
    {
        var result = await CliProcess.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"transit {string.Join(' ', args)} exited {result.ExitCode}: {result.Error}");
        return result.Output;
    }
}
