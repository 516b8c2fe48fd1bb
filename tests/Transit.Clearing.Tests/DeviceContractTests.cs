using System.Text.Json;
using System.Text.Json.Nodes;
using Transit.Clearing.Devices;
using Transit.RideCodes;

namespace Transit.Clearing.Tests;

/// <summary>The device API's one contract (device-api/Transit.DeviceApi), as both sides write and read it.</summary>
public sealed class DeviceContractTests
{
    private static readonly TapRecord Sample = new()
    {
        Seq = 41, At = new DateTimeOffset(2026, 11, 21, 8, 30, 1, 123, TimeSpan.Zero), Code = "TR1:700L60$Y88+%", Accepted = true, Reason = "ok",
        Mode = "metro-entry", OperatorId = "metro", StationId = "S01", Account = "rider-0042", CredentialId = "0123456789abcdef", LatencyMicros = 1830,
        KeySetVersion = 3, DenyListVersion = 17,
    };

    [Fact]
    public void Tap_WrittenForTheWire_ReadsBackTheSameAndKeepsTheCodeReadable()
    {
        var json = JsonSerializer.Serialize(Sample, DeviceApiJson.Wire.TapRecord);

        Assert.Contains("\"code\":\"TR1:700L60$Y88+%\"", json, StringComparison.Ordinal);
        Assert.Contains("\"at\":\"2026-11-21T08:30:01.123Z\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"issuer\"", json, StringComparison.Ordinal);
        Assert.Equal(Sample, JsonSerializer.Deserialize(json, DeviceApiJson.Default.TapRecord));
        Assert.Equal(Sample, JsonSerializer.Deserialize(json, AsSentJson.TapRecord));
    }

    [Theory]
    [InlineData("seq")]
    [InlineData("at")]
    [InlineData("accepted")]
    public void Batch_TapWithoutARequiredField_NamesTheFieldAndTheTap(string field)
    {
        var batch = JsonNode.Parse(JsonSerializer.Serialize(new TapBatch("gate-1", [Sample, Sample with { Seq = 42 }]), DeviceApiJson.Wire.TapBatch))!;
        batch["taps"]![1]!.AsObject().Remove(field);

        var json = System.Text.Encoding.UTF8.GetBytes(batch.ToJsonString());

        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, AsSentJson.TapBatch));

        Assert.Equal($"taps[1].{field}", TapBatch.MissingField(json, error.Path));
        Assert.Null(TapBatch.MissingField(json, "$.taps[0]"));
        Assert.Null(TapBatch.MissingField(json, "$.deviceId"));
    }

    [Theory]
    [InlineData("""{"taps":[{"seq":1,"at":"2026-01-01T00:00:00Z"}]}""", "$.taps[0]", "taps[0].accepted")]
    [InlineData("""{"taps":[{"seq":1,"at":"2026-01-01T00:00:00Z","accepted":true}]}""", "$.taps[0]", null)]
    [InlineData("""{"taps":[{"seq":1}]}""", "$.taps[0].at", null)]
    [InlineData("""{"taps":[{"seq":1}]}""", "$.taps[1]", null)]
    [InlineData("""{"taps":[{"seq":1}]}""", "$.taps[-0]", null)]
    [InlineData("""{"taps":[{"seq":1}]}""", "$.taps[x]", null)]
    [InlineData("""{"taps":[{"seq":1}]}""", "$.tap[0]", null)]
    [InlineData("""{"taps":[{"seq":1}]}""", null, null)]
    [InlineData("""{"taps":{"0":{"seq":1}}}""", "$.taps[0]", null)]
    [InlineData("""{"taps":[7]}""", "$.taps[0]", null)]
    [InlineData("""{"deviceId":"g"}""", "$.taps[0]", null)]
    [InlineData("""{"taps":[{"seq":1""", "$.taps[0]", null)]
    public void MissingField_NamesOnlyARequiredFieldOfTheTapTheErrorNames(string json, string? errorPath, string? expected) =>
        Assert.Equal(expected, TapBatch.MissingField(System.Text.Encoding.UTF8.GetBytes(json), errorPath));

    [Fact]
    public void RequiredFields_AreTheOnesTheSerializerRequires() =>
        Assert.Equal(["seq", "at", "accepted"], TapRecord.RequiredFields);

    [Fact]
    public void Tap_OptionalFieldsLeftOut_ReadAsAbsent()
    {
        var tap = JsonSerializer.Deserialize("""{"seq":1,"at":"2026-01-01T09:00:00+08:00","accepted":false}""", AsSentJson.TapRecord)!;

        Assert.Equal(new DateTimeOffset(2026, 1, 1, 1, 0, 0, TimeSpan.Zero), tap.At);
        Assert.Equal((1L, false, null, null), (tap.Seq, tap.Accepted, tap.Code, tap.Mode));
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("42")]
    public void Timestamp_NotAnRfc3339String_IsAJsonErrorAtTheField(string at)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize($$"""{"seq":1,"at":{{at}},"accepted":true}""", DeviceApiJson.Default.TapRecord));

        Assert.Equal("$.at", error.Path);
    }

    [Fact]
    public void Modes_AreTheStoredNumbersAndTheWireNames()
    {
        Assert.Equal([1, 2, 3, 4], Enum.GetValues<TapMode>().Select(m => (int)m));
        Assert.Equal(TapModes.Names, Enum.GetValues<TapMode>().Select(m => m.Name()));
        Assert.All(TapModes.Names, name => Assert.True(TapModes.TryParse(name, out var mode) && mode.Name() == name));
        Assert.False(TapModes.TryParse("tram", out _));
        Assert.False(TapModes.TryParse(null, out _));
        Assert.Equal([TapMode.Bus, TapMode.BusExit], Enum.GetValues<TapMode>().Where(m => m.OnBus()));
        Assert.Equal([TapMode.MetroExit, TapMode.BusExit], Enum.GetValues<TapMode>().Where(m => m.IsExit()));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((TapMode)5).Name());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((TapMode)0).Name());
    }

    [Fact]
    public void Reasons_GateAndClearingListsAreApart()
    {
        Assert.Equal(VerificationReasons.All.Count + 1, TapReasons.Gate.Count);
        Assert.All(TapReasons.Gate, reason => Assert.True(TapReasons.IsGateReason(reason)));
        Assert.All(TapReasons.Clearing, reason => Assert.False(TapReasons.IsGateReason(reason)));
        Assert.Equal(TapReasons.Clearing.Count, TapReasons.Clearing.Distinct().Count());
        Assert.False(TapReasons.IsGateReason(null));
        Assert.False(TapReasons.IsGateReason("sideways"));
    }

    [Fact]
    public void DenyListAnswer_CarriesDeltasOrASnapshotNeverBoth()
    {
        var document = JsonElement.Parse("""{"type":"transit-deny-list"}""");

        var snapshot = JsonSerializer.Serialize(new DenyListAnswer(7, null, document), DeviceApiJson.Default.DenyListAnswer);
        var deltas = JsonSerializer.Serialize(new DenyListAnswer(7, [document], null), DeviceApiJson.Default.DenyListAnswer);

        Assert.Equal("""{"version":7,"snapshot":{"type":"transit-deny-list"}}""", snapshot);
        Assert.Equal("""{"version":7,"deltas":[{"type":"transit-deny-list"}]}""", deltas);
    }

    [Fact]
    public void StatusReport_LeftOutFields_ReadAsUnknown()
    {
        var report = JsonSerializer.Deserialize("""{"deviceId":"gate-1","journalBacklog":7}""", DeviceApiJson.Default.DeviceStatusReport)!;

        Assert.Equal(("gate-1", 7L, null, null, null), (report.DeviceId, report.JournalBacklog, report.KeySetVersion, report.SentAt, report.UploadError));
    }
}
