using System.Net.Sockets;
using System.Text.Json.Nodes;
using Transit.GateAgent.Journal;
using Transit.GateAgent.Tests.Infrastructure;

namespace Transit.GateAgent.Tests;

/// <summary>
/// Power cuts and outages. Sizes follow TRANSIT_TEST_SIZE: <c>full</c> kills the gate 20 times and buffers 100,000
/// taps offline; the CI size kills it 3 times and buffers 5,000 (same code paths, minutes less).
/// </summary>
[Trait("Category", "Process")]
public sealed class GateDurabilityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly bool Full = TestSize.Full;
    private readonly GateEnvironment _env = new();
    private TestClearingServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new TestClearingServer(_env.Keys);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _env.Dispose();
    }

    [Fact]
    public async Task CrashSafety_SigkillAtRandomMoments_EveryAnsweredTapJournaledAndUploadedExactlyOnce()
    {
        var kills = Full ? 20 : 3;
        var seed = Environment.TickCount;
        output.WriteLine($"{kills} kills, seed {seed}");
        var random = new Random(seed);
        await _server.StartAsync();
        var config = WriteConfig(batch: 50);
        var codes = new CodeStream([.. Enumerable.Range(0, 16).Select(i => _env.Rider($"rider{i}"))]);
        var answered = new Dictionary<long, string>();
        string? lastAccepted = null;

        for (var k = 0; k < kills; k++)
        {
            await using var gate = await GateProcess.StartAsync(config);
            using (var client = gate.Connect())
            {
                if (lastAccepted is not null)
                {
                    // Accepted just before the power cut: the rebuilt replay cache still refuses it.
                    var replay = await client.TapAsync(lastAccepted);
                    Assert.Equal("replayed", replay.Reason);
                    answered.Add(replay.Seq, lastAccepted);
                }

                var feeding = FeedUntilKilledAsync(client, codes, answered);
                await Task.Delay(random.Next(150, 900));
                await gate.KillAsync();
                lastAccepted = await feeding ?? lastAccepted;
            }
        }

        await using (var gate = await GateProcess.StartAsync(config))
        {
            await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("journalBacklog").GetInt64() == 0, TimeSpan.FromSeconds(60), "the backlog to drain");
            Assert.Equal(0, await gate.TerminateAsync());
        }

        var journal = TapJournal.ReadAll(_env.JournalPath).ToList();
        output.WriteLine($"{answered.Count} answered taps, {journal.Count} journaled, {_server.Duplicates} duplicates re-sent after kills");
        Assert.True(answered.Count >= kills, "every run answered taps before it was killed");
        Assert.Equal(Enumerable.Range(1, journal.Count).Select(i => (long)i), journal.Select(r => r.Seq));
        var bySeq = journal.ToDictionary(r => r.Seq);
        foreach (var (seq, code) in answered)
        {
            Assert.Equal(code, bySeq[seq].Code);
        }

        // Fresh codes are unique: an answered one appears once in the journal (replays are separate, refused taps).
        var counts = journal.GroupBy(r => r.Code!).ToDictionary(g => g.Key, g => g.Count(r => r.Reason == "ok"));
        Assert.All(answered.Values, code => Assert.Equal(1, counts[code]));

        Assert.Equal(journal.Count, _server.Taps.Count);
        Assert.Equal(journal.Count, _server.StoredOrder.Count);
        Assert.Equal(journal.Count, _server.HighestContiguous);
        foreach (var record in journal)
        {
            Assert.Equal(record.Code, JsonNode.Parse(_server.Taps[record.Seq])!["code"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Offline_ServerDown_BuffersThenDeliversInOrderExactlyOnceWhileAnswering()
    {
        var buffered = Full ? 100_000 : 5_000;
        var config = WriteConfig(batch: 1000);
        var codes = new CodeStream([.. Enumerable.Range(0, 64).Select(i => _env.Rider($"rider{i}"))]);
        await using var gate = await GateProcess.StartAsync(config);
        using var client = gate.Connect();

        var answers = await PipelineAsync(client, codes, buffered);
        Assert.Equal(Enumerable.Range(1, buffered).Select(i => (long)i), answers.Select(a => a.Seq));
        Assert.All(answers, a => Assert.Equal("ok", a.Reason));
        var health = await gate.HealthAsync();
        Assert.Equal(buffered, health.GetProperty("journalBacklog").GetInt64());
        Assert.True(await gate.MetricAsync("""transit_gate_upload_failures_total{cause="network"}""") >= 1);

        await _server.StartAsync();
        var during = 0;
        while ((await gate.HealthAsync()).GetProperty("journalBacklog").GetInt64() > 0)
        {
            var answer = await client.TapAsync(codes.Next());
            Assert.Equal(("ok", (long)buffered + during + 1), (answer.Reason, answer.Seq));
            during++;
            Assert.True(during < 1_000_000, "the backlog never drained");
        }

        await GateProcess.WaitUntilAsync(async () => (await gate.HealthAsync()).GetProperty("journalBacklog").GetInt64() == 0, TimeSpan.FromSeconds(60), "the last taps to upload");
        var total = buffered + during;
        output.WriteLine($"{buffered} buffered offline, {during} answered while delivering, {_server.Duplicates} duplicates");
        Assert.True(during > 0, "taps were answered while the backlog was delivered");
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), _server.StoredOrder);
        Assert.Equal(total, _server.Taps.Count);
    }

    private string WriteConfig(int batch) => _env.WriteConfig(_server, c =>
    {
        c["Verification"]!["PassbackSeconds"] = 0;
        c["Clearing"]!["UploadBatchSize"] = batch;
        c["Clearing"]!["UploadDelayMillis"] = 20;
        c["Logging"]!["LogLevel"]!["Default"] = "Warning";
    });

    /// <summary>Sends codes with up to 32 unanswered at once until the gate dies; returns the last accepted code.</summary>
    private static async Task<string?> FeedUntilKilledAsync(GateClient client, CodeStream codes, Dictionary<long, string> answered)
    {
        var inflight = new Queue<string>();
        string? lastAccepted = null;
        try
        {
            while (true)
            {
                while (inflight.Count < 32)
                {
                    var code = codes.Next();
                    inflight.Enqueue(code);
                    await client.SendAsync(code);
                }

                var answer = await client.ReceiveAsync();
                var sent = inflight.Dequeue();
                answered.Add(answer.Seq, sent);
                if (answer.Accepted)
                {
                    lastAccepted = sent;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return lastAccepted;
        }
    }

    private static async Task<List<TapAnswer>> PipelineAsync(GateClient client, CodeStream codes, int count)
    {
        var answers = new List<TapAnswer>(count);
        var sent = 0;
        while (answers.Count < count)
        {
            while (sent < count && sent - answers.Count < 64)
            {
                await client.SendAsync(codes.Next());
                sent++;
            }

            answers.Add(await client.ReceiveAsync());
        }

        return answers;
    }
}
