using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Transit.Clearing;
using Transit.Clearing.Devices;
using Transit.Clearing.Ingest;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;

namespace Transit.Cli.Bench;

/// <summary>
/// Ingest through the real device API — HTTPS with client certificates, JSON, re-verification of every code with
/// the key set of its time, one durable transaction per batch — against a raw binary COPY of the same rows into
/// an equivalent table of the same database, each committed durably (fsync on).
/// </summary>
internal static class IngestBenchmark
{
    private const int BatchSize = 1_000;
    private const int Devices = 16;
    private const int Riders = 4_000;

    public static async Task<int> RunAsync(string reportPath, int taps, CancellationToken cancellation)
    {
        await using var bench = await BenchEnvironment.StartAsync(runJobs: false, cancellation);
        var day = DateOnly.FromDateTime(DateTime.UtcNow.Date.AddDays(-1));
        var start = new DateTimeOffset(day.ToDateTime(new TimeOnly(5, 0)), TimeSpan.Zero);
        Console.WriteLine($"preparing {taps:N0} taps from {Riders:N0} riders at {Devices} gates ...");
        var devices = new List<(string Id, HttpClient Client)>();
        for (var d = 0; d < Devices; d++)
        {
            var (device, certificate, key) = await bench.Services.GetRequiredService<DeviceRegistry>().AddAsync(
                new DeviceRegistration($"gate-{d:D3}", "metro", "metro-entry", "CEN", null, null), Path.Combine(bench.Folder, "devices"), cancellation);
            devices.Add((device.DeviceId, bench.DeviceClient(certificate, key)));
        }

        var batches = BuildBatches(bench.Keys, devices.Select(d => d.Id).ToList(), taps, start);
        Console.WriteLine($"uploading {batches.Count:N0} batches of {BatchSize:N0} over HTTPS ...");
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Devices).Select(async worker =>
        {
            // One uploader per device keeps each device's batches in order, as a gate does.
            foreach (var (device, batch) in batches.Where(b => b.Device == worker))
            {
                using var response = await devices[device].Client.PostAsJsonAsync("/device/v1/taps", batch, cancellation);
                if (!response.IsSuccessStatusCode)
                {
                    throw new CliException($"upload failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellation)}", 1);
                }
            }
        }));
        var ingestRate = taps / watch.Elapsed.TotalSeconds;
        var stored = await Scalar(bench.Database.DataSource, "SELECT count(*) FROM taps");
        if (stored != taps)
        {
            throw new CliException($"stored {stored} taps of {taps}", 1);
        }

        Console.WriteLine($"ingest: {ingestRate:N0} taps/s; reference: raw binary COPY ...");
        var copyRate = await RawCopyRateAsync(bench.Database.DataSource, batches, cancellation);
        Console.WriteLine($"raw COPY: {copyRate:N0} rows/s");

        const double target = 20_000;
        var table = BenchmarkReport.Table(
            ["measure", "taps/s", "µs per tap", "ratio to raw COPY", "target"],
            [
                ["raw binary COPY of the same rows, durable commit per batch (reference)", BenchmarkReport.F(copyRate), BenchmarkReport.F(1e6 / copyRate, "F1"), "1.00", ""],
                ["ingest over HTTPS (mTLS, JSON, re-verification, idempotent insert, durable commit)", BenchmarkReport.F(ingestRate), BenchmarkReport.F(1e6 / ingestRate, "F1"),
                    BenchmarkReport.F(ingestRate / copyRate, "F2"), $"≥ {BenchmarkReport.F(target)}: {(ingestRate >= target ? "met" : "NOT met")}"],
            ]);
        BenchmarkReport.WriteSection(reportPath, "ingest", $"""
            ## Ingest (`transit bench ingest --taps {taps}`)

            Machine: {BenchmarkReport.Machine()}; {DateTime.UtcNow:yyyy-MM-dd}, load average {ClearingBenchmark.LoadAverage()} (a shared machine). {taps:N0} taps from {Riders:N0} riders, {Devices} gates uploading
            concurrently in batches of {BatchSize:N0} over HTTPS with client certificates to an in-process clearing server; embedded
            PostgreSQL 15 on the same machine with fsync and synchronous commit on. Every code is re-verified (phone signature;
            credentials cached after their first tap). The reference writes the same rows with a binary COPY into an equivalent
            table, one committed transaction per batch, from one connection per gate. Full size: `--taps 1000000`.

            {table}
            """);
        Console.WriteLine($"written to {reportPath}");
        return ingestRate >= target ? 0 : 1;
    }

    private static List<(int Device, TapBatch Batch)> BuildBatches(OperatorKeyDirectory keys, List<string> devices, int taps, DateTimeOffset start)
    {
        var (issuerKey, issuer) = keys.OpenIssuingKey();
        var phones = new List<PhoneCredential>();
        using (issuer)
        {
            for (var r = 0; r < Riders; r++)
            {
                phones.Add(PhoneCredential.Issue(issuer, issuerKey.KeyId, $"b{r:D6}", "", start.AddDays(-1), TimeSpan.FromDays(3)));
            }
        }

        var records = new TapRecord[taps];
        Parallel.For(0, taps, i =>
        {
            var device = i % devices.Count;
            var at = start.AddSeconds(i / 20.0);
            records[i] = new TapRecord
            {
                Seq = (i / devices.Count) + 1,
                At = at,
                Code = phones[i % Riders].Show(at.AddSeconds(-1), (byte)(i / Riders)).ToText(),
                Accepted = true,
                Reason = "ok",
                Mode = "metro-entry",
                OperatorId = "metro",
                StationId = "CEN",
            };
        });
        foreach (var phone in phones)
        {
            phone.Dispose();
        }

        return [.. Enumerable.Range(0, devices.Count)
            .SelectMany(d => records.Where((_, i) => i % devices.Count == d).Chunk(BatchSize)
                .Select(chunk => (d, new TapBatch { DeviceId = devices[d], Taps = [.. chunk] })))];
    }

    private static async Task<double> RawCopyRateAsync(NpgsqlDataSource dataSource, List<(int Device, TapBatch Batch)> batches, CancellationToken cancellation)
    {
        await using (var create = dataSource.CreateCommand("CREATE TABLE bench_raw_taps (LIKE taps INCLUDING DEFAULTS)"))
        {
            await create.ExecuteNonQueryAsync(cancellation);
        }

        var watch = Stopwatch.StartNew();
        await Task.WhenAll(batches.GroupBy(b => b.Device).Select(async group =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellation);
            foreach (var (_, batch) in group)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellation);
                await using (var copy = await connection.BeginBinaryImportAsync(
                    "COPY bench_raw_taps (service_day, device_id, seq, at, received_at, mode, accepted, gate_reason, clearing_reason, flags, operator_id, station_id, shard, code) FROM STDIN (FORMAT BINARY)",
                    cancellation))
                {
                    foreach (var tap in batch.Taps!)
                    {
                        await copy.StartRowAsync(cancellation);
                        await copy.WriteAsync(DateOnly.FromDateTime(tap!.At!.Value.UtcDateTime), NpgsqlDbType.Date, cancellation);
                        await copy.WriteAsync(batch.DeviceId!, NpgsqlDbType.Text, cancellation);
                        await copy.WriteAsync(tap.Seq!.Value, NpgsqlDbType.Bigint, cancellation);
                        await copy.WriteAsync(tap.At.Value.UtcDateTime, NpgsqlDbType.TimestampTz, cancellation);
                        await copy.WriteAsync(DateTime.UtcNow, NpgsqlDbType.TimestampTz, cancellation);
                        await copy.WriteAsync((short)1, NpgsqlDbType.Smallint, cancellation);
                        await copy.WriteAsync(true, NpgsqlDbType.Boolean, cancellation);
                        await copy.WriteAsync(tap.Reason!, NpgsqlDbType.Text, cancellation);
                        await copy.WriteAsync("ok", NpgsqlDbType.Text, cancellation);
                        await copy.WriteAsync(0, NpgsqlDbType.Integer, cancellation);
                        await copy.WriteAsync(tap.OperatorId!, NpgsqlDbType.Text, cancellation);
                        await copy.WriteAsync(tap.StationId!, NpgsqlDbType.Text, cancellation);
                        await copy.WriteAsync((short)0, NpgsqlDbType.Smallint, cancellation);
                        await copy.WriteAsync(tap.Code!, NpgsqlDbType.Text, cancellation);
                    }

                    await copy.CompleteAsync(cancellation);
                }

                await transaction.CommitAsync(cancellation);
            }
        }));
        return batches.Sum(b => b.Batch.Taps!.Count) / watch.Elapsed.TotalSeconds;
    }

    internal static async Task<long> Scalar(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>A clearing server on a private embedded cluster in a temporary folder, for benchmarks.</summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private readonly List<HttpClient> _clients = [];

    private BenchEnvironment(string folder, RunningClearing server, OperatorKeyDirectory keys)
    {
        Folder = folder;
        Server = server;
        Keys = keys;
    }

    public string Folder { get; }

    public RunningClearing Server { get; }

    public ClearingDatabase Database => Server.Database;

    public OperatorKeyDirectory Keys { get; }

    public IServiceProvider Services => Server.Services;

    public static async Task<BenchEnvironment> StartAsync(bool runJobs, CancellationToken cancellation)
    {
        var folder = Path.Combine(Path.GetTempPath(), "transit-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var keys = OperatorKeyDirectory.Init(Path.Combine(folder, "keys"), SignatureAlgorithm.P256);
        var options = new ClearingOptions
        {
            DataFolder = folder,
            KeyDirectory = keys.Path,
            DevicePort = 0,
            DeviceAddress = "127.0.0.1",
            RunJobs = runJobs,
            TimeZone = "UTC",
            Payments = { Latency = TimeSpan.Zero },
        };
        return new BenchEnvironment(folder, await RunningClearing.StartAsync(options, ["http://127.0.0.1:0"], cancellation: cancellation), keys);
    }

    public HttpClient DeviceClient(string certificatePath, string keyPath)
    {
        var client = RunningClearing.DeviceClient(Server.DeviceUrl, Keys.CaCertificatePath, certificatePath, keyPath);
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.WriteLine($"left {Folder}: {ex.Message}");
        }
    }
}
