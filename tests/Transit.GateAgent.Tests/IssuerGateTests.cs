using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Pipeline;
using Transit.GateAgent.Tests.Infrastructure;
using Transit.GateAgent.Trust;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;
using Transit.DeviceApi;

namespace Transit.GateAgent.Tests;

/// <summary>A gate accepting several issuers (<c>Trust:Issuers</c>): each code under its own issuer's chain only.</summary>
public sealed class IssuerGateTests : IDisposable
{
    private readonly DateTimeOffset _signedAt = GateEnvironment.Now();

    private static readonly GateLimits Limits = new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(120));
    private readonly GateEnvironment _env = new();
    private readonly OperatorKeyDirectory _wallet;

    public IssuerGateTests()
    {
        _wallet = OperatorKeyDirectory.Init(Path.Combine(_env.Directory, "wallet"), SignatureAlgorithm.Sm2, issuerId: "nw");
    }

    [Fact]
    public void Load_WithIssuers_AcceptsEachAcceptedIssuerAndRefusesOthers()
    {
        using var journal = TapJournal.Open(_env.JournalPath, GateEnvironment.DeviceId);
        var state = GateState.Load(Settings(WithWallet("nw")), journal.Documents, TimeProvider.System, NullLogger.Instance);
        var now = GateEnvironment.Now();
        using var walletRider = WalletRider("alice");
        using var stranger = OperatorKeyDirectory.Init(Path.Combine(_env.Directory, "card"), SignatureAlgorithm.P256, issuerId: "card").OpenIssuingKey().PrivateKey;
        using var strangerRider = PhoneCredential.Issue(stranger, 1, "carl", "1", now.AddHours(-1), TimeSpan.FromHours(24), "card");

        var home = state.Verifier.Verify(_env.Rider("alice").Show(now, 0).ToText(), now);
        var wallet = state.Verifier.Verify(walletRider.Show(now, 0).ToText(), now);
        var card = state.Verifier.Verify(strangerRider.Show(now, 0).ToText(), now);

        Assert.Equal(("ok", "home"), (home.ReasonCode, home.Issuer));
        Assert.Equal(("ok", "nw"), (wallet.ReasonCode, wallet.Issuer));
        Assert.Equal(("unknown-issuer", "card"), (card.ReasonCode, card.Issuer));
        Assert.Equal(["home", "nw"], state.Issuers.IssuerIds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Load_IssuerKeySetUnderAnotherId_RefusedNamingTheSetting()
    {
        using var journal = TapJournal.Open(_env.JournalPath, GateEnvironment.DeviceId);

        var ex = Assert.Throws<TrustDocumentException>(() => GateState.Load(Settings(WithWallet("card")), journal.Documents, TimeProvider.System, NullLogger.Instance));

        Assert.Contains("Trust:Issuers:0:KeySet", ex.Message, StringComparison.Ordinal);
        Assert.Contains("issuer 'nw'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_IssuerKeySetWithAnotherIssuersRoot_Refused()
    {
        // The wallet's key set with the operator's root key named as its root: the signature does not verify.
        using var journal = TapJournal.Open(_env.JournalPath, GateEnvironment.DeviceId);
        var settings = Settings(c => c["Trust"]!["Issuers"] = new JsonArray(new JsonObject
        {
            ["Id"] = "nw",
            ["RootPublicKey"] = _env.Keys.RootPublicKeyPath,
            ["KeySet"] = _wallet.KeySetPath,
        }));

        var ex = Assert.Throws<TrustDocumentException>(() => GateState.Load(settings, journal.Documents, TimeProvider.System, NullLogger.Instance));
        Assert.Contains("Trust:Issuers:0:KeySet", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_BadOrRepeatedIssuerId_RefusedNamingTheSetting()
    {
        var bad = _env.WriteConfig(change: WithWallet("NW"));
        var error = Assert.Throws<GateConfigurationException>(() => GateSettingsLoader.Load(GateSettingsLoader.BuildConfiguration(bad), _env.Directory));
        Assert.Contains("Trust:Issuers:0:Id 'NW' is not an issuer id", error.Message, StringComparison.Ordinal);

        var twice = _env.WriteConfig(change: c =>
        {
            WithWallet("nw")(c);
            c["Trust"]!["Issuers"]!.AsArray().Add(c["Trust"]!["Issuers"]![0]!.DeepClone());
        });
        error = Assert.Throws<GateConfigurationException>(() => GateSettingsLoader.Load(GateSettingsLoader.BuildConfiguration(twice), _env.Directory));
        Assert.Contains("Trust:Issuers:1:Id 'nw' is listed twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GateRules_SameAccountAtTwoIssuers_TwoRidersNotPassback()
    {
        using var journal = TapJournal.Open(_env.JournalPath, GateEnvironment.DeviceId);
        var state = GateState.Load(Settings(WithWallet("nw")), journal.Documents, TimeProvider.System, NullLogger.Instance);
        var rules = new GateRules();
        var now = GateEnvironment.Now();
        var homeAlice = _env.Rider("alice");
        using var walletAlice = WalletRider("alice");

        Assert.Equal((true, "ok"), rules.Decide(state.Verifier.Verify(homeAlice.Show(now, 0).ToText(), now), now, Limits));
        Assert.Equal((true, "ok"), rules.Decide(state.Verifier.Verify(walletAlice.Show(now, 0).ToText(), now), now, Limits));
        Assert.Equal((false, "passback"), rules.Decide(state.Verifier.Verify(walletAlice.Show(now, 1).ToText(), now), now, Limits));
        Assert.Equal((false, "passback"), rules.Decide(state.Verifier.Verify(homeAlice.Show(now, 1).ToText(), now), now, Limits));

        // After a restart the journal's taps rebuild pass-back per issuer too.
        var restored = new GateRules();
        restored.Restore([(walletAlice.Show(now, 2).ToText(), now, "alice")], now, Limits);
        Assert.Equal((true, "ok"), restored.Decide(state.Verifier.Verify(homeAlice.Show(now, 3).ToText(), now), now, Limits));
        Assert.Equal((false, "passback"), restored.Decide(state.Verifier.Verify(walletAlice.Show(now, 3).ToText(), now), now, Limits));
    }

    [Fact]
    public void Journal_TapOfNamedIssuer_UploadFormCarriesIssuerAndHomeTapsDoNot()
    {
        var now = GateEnvironment.Now();
        using var walletRider = WalletRider("wendy");
        using (var journal = TapJournal.Open(_env.JournalPath, GateEnvironment.DeviceId))
        {
            journal.Append([TestVerdicts.Of(_env.Rider("harry").Show(now, 0).ToText(), now), TestVerdicts.Of(walletRider.Show(now, 0).ToText(), now)]);
            var records = journal.ReadFrom(0, 10);
            Assert.Equal([null, "nw"], records.Select(r => r.Issuer));

            var json = records.Select(r => JsonSerializer.Serialize(r, DeviceApiJson.Wire.TapRecord)).ToList();
            Assert.DoesNotContain("\"issuer\"", json[0], StringComparison.Ordinal);
            Assert.Contains("\"issuer\":\"nw\"", json[1], StringComparison.Ordinal);
        }
    }

    public void Dispose() => _env.Dispose();

    private PhoneCredential WalletRider(string account)
    {
        var (key, privateKey) = _wallet.OpenIssuingKey();
        using (privateKey)
        {
            return PhoneCredential.Issue(privateKey, key.KeyId, account, "1", GateEnvironment.Now().AddHours(-1), TimeSpan.FromHours(24), "nw");
        }
    }

    [Fact]
    public void InstallIssuers_OlderListOrRolledBackIssuerKeySet_RefusedAndTheSetInForceKept()
    {
        using var journal = TapJournal.Open(_env.JournalPath, GateEnvironment.DeviceId);
        var state = GateState.Load(Settings(WithWallet("nw")), journal.Documents, TimeProvider.System, NullLogger.Instance);
        var firstKeySet = File.ReadAllText(_wallet.KeySetPath);
        _wallet.Rotate(SignatureAlgorithm.Sm2);
        var secondKeySet = File.ReadAllText(_wallet.KeySetPath);

        Assert.True(state.InstallIssuers(IssuerBundle(2, secondKeySet)));
        Assert.False(state.InstallIssuers(IssuerBundle(2, secondKeySet)));
        var older = Assert.Throws<TrustDocumentException>(() => state.InstallIssuers(IssuerBundle(1, secondKeySet)));
        var rolledBack = Assert.Throws<TrustDocumentException>(() => state.InstallIssuers(IssuerBundle(3, firstKeySet)));

        Assert.Contains("older than the held version 2", older.Message, StringComparison.Ordinal);
        Assert.Contains("issuer 'nw': key set version 1 is older than the held version 2", rolledBack.Message, StringComparison.Ordinal);
        Assert.Equal(2, state.Acceptance!.Version);
        Assert.True(state.Issuers.TryGet("nw", out var held));
        Assert.Equal(2, held.KeySet.Version);
        Assert.Equal(2, journal.Documents.LoadDocument(DocumentKinds.Issuers)?.Version);
    }

    /// <summary>The answer of GET /device/v1/issuers accepting the wallet, signed by the operator's online key.</summary>
    private string IssuerBundle(long version, string walletKeySet)
    {
        // One signing time for every bundle of a test: the same version signed a second later is a different document.
        var now = _signedAt;
        var list = new IssuerAcceptance(version, "metro", now, [new AcceptedIssuer("nw", _wallet.RootPublicKey, now.AddDays(-1), null)]);
        return new JsonObject
        {
            ["version"] = version,
            ["acceptance"] = JsonNode.Parse(_env.Keys.Sign(IssuerAcceptance.DocumentType, list.ToPayload()).ToJson()),
            ["issuers"] = new JsonArray(new JsonObject { ["id"] = "nw", ["keySet"] = JsonNode.Parse(walletKeySet) }),
        }.ToJsonString();
    }

    private Action<JsonObject> WithWallet(string id) => c => c["Trust"]!["Issuers"] = new JsonArray(new JsonObject
    {
        ["Id"] = id,
        ["RootPublicKey"] = _wallet.RootPublicKeyPath,
        ["KeySet"] = _wallet.KeySetPath,
        ["DenyList"] = _wallet.DenyListPath,
    });

    private GateSettings Settings(Action<JsonObject> change) =>
        GateSettingsLoader.Load(GateSettingsLoader.BuildConfiguration(_env.WriteConfig(change: change)), _env.Directory);
}
