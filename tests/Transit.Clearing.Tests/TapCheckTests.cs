using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json;
using Transit.Clearing.Devices;
using Transit.Clearing.Ingest;

namespace Transit.Clearing.Tests;

/// <summary>The per-tap checks of ingest without a database: what is storable, what a device could have taken.</summary>
public sealed class TapCheckTests
{
    private static readonly RegisteredDevice Gate = new("gate-1", "metro", "metro-entry", "CEN", null, null, null, 1);
    private static readonly RegisteredDevice Bus = new("bus-1", "bus", "bus", null, "BS1624", "B1", null, 1);

    [Theory]
    [InlineData("TR1:ABC", 8, true)]
    [InlineData("12345678", 8, true)]
    [InlineData("123456789", 8, false)]
    [InlineData("", 8, false)]
    [InlineData(null, 8, false)]
    [InlineData("A\0B", 8, false)]
    [InlineData("A\u001fB", 8, false)]
    [InlineData("A\u007fB", 8, false)]
    [InlineData("A\u0085B", 8, false)]
    [InlineData("A\nB", 8, false)]
    [InlineData("A{D83D}{DE00}B", 8, true)]
    [InlineData("A{D83D}", 8, false)]
    [InlineData("{D83D}B", 8, false)]
    [InlineData("A{DE00}B", 8, false)]
    [InlineData("{DE00}{D83D}", 8, false)]
    [InlineData("zażółć", 8, true)]
    public void IsClean_AcceptsOnlyWholeUtf16WithoutControlsWithinTheLength(string? text, int max, bool clean) =>
        Assert.Equal(clean, TapText.IsClean(Surrogates(text), max));

    [Theory]
    [InlineData("TR1:ABC", 16, "TR1:ABC")]
    [InlineData("a\\b", 16, @"a\\b")]
    [InlineData("A\0B", 16, @"A\u0000B")]
    [InlineData("A\u0085", 16, @"A\u0085")]
    [InlineData("A{D800}B", 16, @"A\ud800B")]
    [InlineData("A{DCFF}B", 16, @"A\xffB")]
    [InlineData("A{DC80}", 16, @"A\x80")]
    [InlineData("A{DC7F}", 16, @"A\udc7f")]
    [InlineData("A{D83D}{DE00}", 16, "A{D83D}{DE00}")]
    [InlineData("A{D83D}", 16, @"A\ud83d")]
    [InlineData("ABCD", 4, "ABCD")]
    [InlineData("ABCDE", 4, "ABCD…")]
    [InlineData("AB\0", 4, "AB…")]
    [InlineData("ABC\\", 4, "ABC…")]
    [InlineData("ABC{D83D}{DE00}", 4, "ABC…")]
    [InlineData("", 4, "")]
    public void Escape_ShowsEveryUnstorableCharacterAndMarksACut(string text, int max, string escaped)
    {
        var result = TapText.Escape(Surrogates(text)!, max);
        Assert.Equal(Surrogates(escaped), result);
        Assert.DoesNotContain(result, c => char.IsControl(c));
    }

    [Fact]
    public void Escape_LongInput_StaysWithinTheLimitPlusTheMark()
    {
        Assert.Equal(21 * 6 + 1, TapText.Escape(new string('\0', 10_000), 128).Length);
        Assert.Equal(513, TapText.Escape(new string('A', 600), 512).Length);
    }

    [Fact]
    public void Decode_KeepsBytesThatAreNotUtf8AsLoneSurrogates()
    {
        Assert.Equal("zażółć", TapText.Decode("zażółć"u8));
        Assert.Equal("A\uDCFFB\uDCC3", TapText.Decode([(byte)'A', 0xFF, (byte)'B', 0xC3]));
        Assert.Equal("\uDCE2\uDC82", TapText.Decode([0xE2, 0x82]));
        Assert.Equal("", TapText.Decode([]));
    }

    [Fact]
    public void Unescape_ReadsEveryJsonEscapeAndKeepsLoneSurrogates() =>
        Assert.Equal("\"\\/\b\f\n\r\tA\uD800é\uDC00", TapText.Unescape(@"\""\\\/\b\f\n\r\t\u0041\ud800é\udc00"u8));

    [Theory]
    [InlineData("""{"code":"TR1:\u0000X"}""", "TR1:\0X")]
    [InlineData("""{"code":"\ud800"}""", "{D800}")]
    [InlineData("""{"code":"plain"}""", "plain")]
    [InlineData("""{"code":null}""", null)]
    public void Converter_ReadsTheCodeAsSent(string json, string? code) =>
        Assert.Equal(Surrogates(code), Read(json).Code);

    [Fact]
    public void Converter_NotAString_IsTheBatchsError() =>
        Assert.Contains("expected a string", Assert.Throws<JsonException>(() => Read("""{"code":42}""")).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"code":"TR1:ABCDEFGH"}""", "TR1:ABCDEFGH")]
    [InlineData("""{"code":"TR1:AB\u0000CD"}""", "TR1:AB\0CD")]
    public void Converter_ValueSplitAcrossBufferSegments_IsReadWhole(string json, string code)
    {
        // A request body arrives in pieces; a string that straddles two of them reaches the converter as a sequence.
        var bytes = System.Text.Encoding.UTF8.GetBytes(WithRequired(json));
        var split = WithRequired(json).IndexOf("AB", StringComparison.Ordinal) + 1;
        var first = new Segment(bytes.AsMemory(0, split));
        var last = first.Append(bytes.AsMemory(split));
        var reader = new Utf8JsonReader(new System.Buffers.ReadOnlySequence<byte>(first, 0, last, last.Memory.Length));
        Assert.Equal(code, JsonSerializer.Deserialize(ref reader, AsSentJson.TapRecord)!.Code);
    }

    [Fact]
    public void Converter_InvalidUtf8_IsKept()
    {
        byte[] json = [.. "{\"seq\":1,\"at\":\"2026-01-01T00:00:00Z\",\"accepted\":true,\"stationId\":\"C"u8, 0xFF, .. "\"}"u8];
        Assert.Equal("C\uDCFF", JsonSerializer.Deserialize(json, AsSentJson.TapRecord)!.StationId);
    }

    [Fact]
    public void Malformed_CleanTap_IsNull()
    {
        Assert.Null(TapChecks.Malformed(Tap()));
        Assert.Null(TapChecks.Malformed(Tap(t => t with { Reason = "passback" })));
        Assert.Null(TapChecks.Malformed(Tap(t => t with { StationId = "", StopId = null, RouteId = "" })));
        Assert.Null(TapChecks.Malformed(Tap(t => t with { Code = new string('A', 512) })));
    }

    [Theory]
    [InlineData("code", "", "malformed-code")]
    [InlineData("code", null, "malformed-code")]
    [InlineData("code", "TR1:\0", "malformed-code")]
    [InlineData("reason", "sideways", "malformed-reason")]
    [InlineData("reason", null, "malformed-reason")]
    [InlineData("mode", "tram", "malformed-mode")]
    [InlineData("mode", null, "malformed-mode")]
    [InlineData("operatorId", null, "malformed-operator")]
    [InlineData("operatorId", "me\0tro", "malformed-operator")]
    [InlineData("stationId", "C\0EN", "malformed-station")]
    [InlineData("stopId", "{D800}", "malformed-stop")]
    [InlineData("routeId", "B\u00071", "malformed-route")]
    public void Malformed_NamesTheField(string field, string? value, string reason) =>
        Assert.Equal(reason, TapChecks.Malformed(Tap(t => Set(t, field, Surrogates(value)))));

    [Fact]
    public void Malformed_OverlongFields_AreNamed()
    {
        Assert.Equal("malformed-code", TapChecks.Malformed(Tap(t => t with { Code = new string('A', 513) })));
        Assert.Null(TapChecks.Malformed(Tap(t => t with { StationId = new string('S', TapText.MaxIdLength) })));
        Assert.Equal("malformed-station", TapChecks.Malformed(Tap(t => t with { StationId = new string('S', TapText.MaxIdLength + 1) })));
        Assert.Equal("malformed-operator", TapChecks.Malformed(Tap(t => t with { OperatorId = new string('o', TapText.MaxIdLength + 1) })));
    }

    [Fact]
    public void Malformed_ReportsTheFirstProblem() =>
        Assert.Equal("malformed-code", TapChecks.Malformed(Tap(t => t with { Code = "\0", Mode = "tram", StationId = "\0" })));

    [Fact]
    public void Mismatch_MetroGate_HoldsOperatorModeAndStation()
    {
        Assert.Null(TapChecks.Mismatch(Tap(), Gate, NoFeed));
        Assert.Equal("device-mismatch-operator", TapChecks.Mismatch(Tap(t => t with { OperatorId = "bus" }), Gate, NoFeed));
        Assert.Equal("device-mismatch-mode", TapChecks.Mismatch(Tap(t => t with { Mode = "metro-exit" }), Gate, NoFeed));
        Assert.Equal("device-mismatch-mode", TapChecks.Mismatch(Tap(t => t with { Mode = "bus", StationId = null, RouteId = "B1" }), Gate, NoFeed));
        Assert.Equal("device-mismatch-station", TapChecks.Mismatch(Tap(t => t with { StationId = "W1" }), Gate, NoFeed));
        Assert.Equal("device-mismatch-station", TapChecks.Mismatch(Tap(t => t with { StationId = null }), Gate, NoFeed));
        Assert.Equal("device-mismatch-operator", TapChecks.Mismatch(Tap(t => t with { OperatorId = "bus", StationId = "W1" }), Gate, NoFeed));
    }

    [Fact]
    public void Mismatch_BusValidator_HoldsRouteAndStopOnRoute()
    {
        static TapRecord BusTap(Func<TapRecord, TapRecord>? change = null)
        {
            var tap = Tap(t => t with { OperatorId = "bus", Mode = "bus", StationId = null, RouteId = "B1", StopId = "BS1624" });
            return change is null ? tap : change(tap);
        }
        var asked = new List<(string, string)>();
        bool? Feed(string route, string stop)
        {
            asked.Add((route, stop));
            return stop == "BS1624" ? true : route == "B1" ? false : null;
        }

        Assert.Null(TapChecks.Mismatch(BusTap(), Bus, Feed));
        Assert.Equal(new[] { ("B1", "BS1624") }, asked);
        Assert.Equal("device-mismatch-route", TapChecks.Mismatch(BusTap(t => t with { RouteId = "B2" }), Bus, Feed));
        Assert.Equal("device-mismatch-route", TapChecks.Mismatch(BusTap(t => t with { RouteId = null }), Bus, Feed));
        Assert.Equal("stop-not-on-route", TapChecks.Mismatch(BusTap(t => t with { StopId = "BS1616" }), Bus, Feed));
        Assert.Null(TapChecks.Mismatch(BusTap(t => t with { StopId = null }), Bus, Feed));
        Assert.Null(TapChecks.Mismatch(BusTap(t => t with { StopId = "" }), Bus, Feed));
        Assert.Null(TapChecks.Mismatch(BusTap(t => t with { StopId = "BS1616" }), Bus, NoFeed));
        Assert.Equal("device-mismatch-mode", TapChecks.Mismatch(BusTap(t => t with { Mode = "metro-entry", StationId = "CEN" }), Bus, Feed));
    }

    [Fact]
    public void Stored_KeepsCleanTextAndEscapesTheRest()
    {
        Assert.Null(TapText.Stored(null, 8));
        Assert.Equal("CEN", TapText.Stored("CEN", 8));
        Assert.Equal(@"C\u0000", TapText.Stored("C\0", 8));
        Assert.Equal("ABCDEFGH…", TapText.Stored("ABCDEFGHI", 8));
    }

    [Fact]
    public void StatusBounds_AFullReportInBounds_HasNoErrors() => Assert.Empty(DeviceStatusBounds.Check(new DeviceStatusReport
    {
        DeviceId = "gate-1", KeySetVersion = 0, DenyListVersion = 3, ConfigVersion = 1, JournalBacklog = 0, HighestSequence = 9, P99LatencyMicros = 0,
        DiskFreeBytes = 0, ClockOffsetMillis = -DeviceStatusBounds.MaxClockOffsetMillis, SoftwareVersion = new string('v', 64), Alarm = "amber",
        Taps = Enumerable.Range(0, 32).ToDictionary(i => i == 0 ? new string('a', 40) : $"r-{i}", i => (long)i),
        UploadError = new() { Reason = "tls-name-mismatch", Message = new string('m', 500), Failures = 0 },
        SyncError = new() { Reason = "http-500" },
    }));

    [Theory]
    [InlineData("keySetVersion")]
    [InlineData("denyListVersion")]
    [InlineData("configVersion")]
    [InlineData("journalBacklog")]
    [InlineData("highestSequence")]
    [InlineData("p99LatencyMicros")]
    [InlineData("diskFreeBytes")]
    [InlineData("clockOffsetMillis")]
    [InlineData("taps")]
    [InlineData("taps.ok")]
    [InlineData("softwareVersion")]
    [InlineData("alarm")]
    [InlineData("uploadError.reason")]
    [InlineData("uploadError.message")]
    [InlineData("uploadError.failures")]
    [InlineData("syncError.reason")]
    public void StatusBounds_EachFieldOutOfBounds_IsNamedAlone(string field)
    {
        var report = new DeviceStatusReport { DeviceId = "gate-1", UploadError = new() { Reason = "timeout" }, SyncError = new() { Reason = "timeout" } };
        switch (field)
        {
            case "keySetVersion": report = report with { KeySetVersion = -1 }; break;
            case "denyListVersion": report = report with { DenyListVersion = -1 }; break;
            case "configVersion": report = report with { ConfigVersion = -1 }; break;
            case "journalBacklog": report = report with { JournalBacklog = -1 }; break;
            case "highestSequence": report = report with { HighestSequence = -1 }; break;
            case "p99LatencyMicros": report = report with { P99LatencyMicros = -1 }; break;
            case "diskFreeBytes": report = report with { DiskFreeBytes = -2 }; break;
            case "clockOffsetMillis": report = report with { ClockOffsetMillis = DeviceStatusBounds.MaxClockOffsetMillis + 1 }; break;
            case "taps": report = report with { Taps = Enumerable.Range(0, 33).ToDictionary(i => $"r-{i}", i => 1L) }; break;
            case "taps.ok": report = report with { Taps = new Dictionary<string, long> { ["ok"] = -1 } }; break;
            case "softwareVersion": report = report with { SoftwareVersion = new string('v', 65) }; break;
            case "alarm": report = report with { Alarm = "red" }; break;
            case "uploadError.reason": report = report with { UploadError = report.UploadError! with { Reason = null } }; break;
            case "uploadError.message": report = report with { UploadError = report.UploadError! with { Message = new string('m', 501) } }; break;
            case "uploadError.failures": report = report with { UploadError = report.UploadError! with { Failures = -1 } }; break;
            case "syncError.reason": report = report with { SyncError = report.SyncError! with { Reason = "Timeout" } }; break;
        }

        var errors = DeviceStatusBounds.Check(report);
        Assert.Equal([field], errors.Keys);
        Assert.Matches("^[a-z0-9]", Assert.Single(errors[field]));
    }

    [Theory]
    [InlineData(-1L, 0L)]
    [InlineData(0L, DeviceStatusBounds.MaxClockOffsetMillis)]
    [InlineData(long.MaxValue, -DeviceStatusBounds.MaxClockOffsetMillis)]
    public void StatusBounds_EdgesOfEachRange_AreInBounds(long diskFree, long clockOffset) =>
        Assert.Empty(DeviceStatusBounds.Check(new DeviceStatusReport { DiskFreeBytes = diskFree, ClockOffsetMillis = clockOffset, SoftwareVersion = "1.0~rc.1!" }));

    [Theory]
    [InlineData("a", true)]
    [InlineData("0-x", true)]
    [InlineData("z", true)]
    [InlineData("9", true)]
    [InlineData("az-09", true)]
    [InlineData("-x", false)]
    [InlineData("", false)]
    [InlineData("ok ok", false)]
    [InlineData("OK", false)]
    [InlineData("ok_x", false)]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public void StatusBounds_TapReasons_AreShortKebabCase(string reason, bool valid) =>
        Assert.Equal(valid, DeviceStatusBounds.Check(new DeviceStatusReport { Taps = new Dictionary<string, long> { [reason] = 1 } }).Count == 0);

    [Theory]
    [InlineData("1.0.0", true)]
    [InlineData("", false)]
    [InlineData("1.0 beta", false)]
    [InlineData("1.0\u007f", false)]
    [InlineData("1.0é", false)]
    public void StatusBounds_SoftwareVersion_IsPrintableAscii(string version, bool valid) =>
        Assert.Equal(valid, DeviceStatusBounds.Check(new DeviceStatusReport { SoftwareVersion = version }).Count == 0);

    [Fact]
    public void StatusBounds_StoredError_EscapesItsMessage()
    {
        var stored = DeviceStatusBounds.Stored(new LinkError { Reason = "timeout", Message = "line 1\nline 2", Failures = 3 })!;
        Assert.Equal((@"line 1\u000aline 2", 3, "timeout"), (stored.Message, stored.Failures, stored.Reason));
        Assert.Null(DeviceStatusBounds.Stored(null));
    }

    private static bool? NoFeed(string route, string stop) => null;

    private sealed class Segment : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }

    /// <summary>Attribute arguments are stored as UTF-8, which cannot hold a lone surrogate: test data writes one as {D800}.</summary>
    private static string? Surrogates(string? text) =>
        text is null ? null : Regex.Replace(text, "\\{(D[89A-F][0-9A-F]{2})\\}", m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString());

    /// <summary>A tap read as clearing reads one, with the fields a read requires ahead of <paramref name="json"/>'s.</summary>
    private static TapRecord Read(string json) => JsonSerializer.Deserialize(WithRequired(json), AsSentJson.TapRecord)!;

    private static string WithRequired(string json) => """{"seq":1,"at":"2026-01-01T00:00:00Z","accepted":true,""" + json[1..];

    private static TapRecord Tap(Func<TapRecord, TapRecord>? change = null)
    {
        var tap = new TapRecord
        {
            Seq = 1, At = DateTimeOffset.UnixEpoch, Code = "TR1:ABC", Accepted = true, Reason = "ok", Mode = "metro-entry", OperatorId = "metro", StationId = "CEN",
        };
        return change is null ? tap : change(tap);
    }

    private static TapRecord Set(TapRecord tap, string field, string? value) => field switch
    {
        "code" => tap with { Code = value },
        "reason" => tap with { Reason = value },
        "mode" => tap with { Mode = value },
        "operatorId" => tap with { OperatorId = value },
        "stationId" => tap with { StationId = value },
        "stopId" => tap with { StopId = value },
        "routeId" => tap with { RouteId = value },
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };
}
