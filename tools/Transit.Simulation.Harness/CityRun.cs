using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Transit.Clearing;
using Transit.Clearing.Access;
using Transit.Clearing.Devices;
using Transit.Clearing.Gtfs;
using Transit.Clearing.Issuers;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;
using Transit.Simulation;
using Transit.Clearing.Hosting;

namespace Transit.Simulation.Harness;

/// <summary>What a simulation run is made of; see <c>transit sim --help</c>.</summary>
public sealed record SimulationSettings
{
    /// <summary>The program that runs each gate agent.</summary>
    public required GateCommand Gate { get; init; }

    /// <summary>Folder of everything the run creates: keys, feed, embedded PostgreSQL, gates, ground truth.</summary>
    public required string DataFolder { get; init; }

    /// <summary>PostgreSQL connection string of an empty database; the embedded cluster under the data folder when null.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>A GTFS feed with trips and stop times; the synthetic city when null.</summary>
    public string? FeedDirectory { get; init; }

    public int Riders { get; init; } = 1000;

    /// <summary>Entry gates and exit gates per metro station.</summary>
    public int GatesPerStation { get; init; } = 1;

    /// <summary>Validators (buses) per route.</summary>
    public int BusesPerRoute { get; init; } = 2;

    public int Days { get; init; } = 1;

    /// <summary>The first service day; today's by default (or earlier, so that no day lies more than a day ahead).</summary>
    public DateOnly? FirstDay { get; init; }

    /// <summary>Simulated seconds per real second; when null, derived from <see cref="DayDuration"/>.</summary>
    public double? Compression { get; init; }

    /// <summary>How long playing one day's taps should take when no compression is given.</summary>
    public TimeSpan DayDuration { get; init; } = TimeSpan.FromSeconds(60);

    public int Seed { get; init; } = 1;

    /// <summary>Which riders populate the city.</summary>
    public PopulationModel Population { get; init; } = PopulationModel.Realistic;

    /// <summary>Where the ground truth goes; DATA/truth by default.</summary>
    public string? TruthFolder { get; init; }

    /// <summary>URLs of clearing's API (and dashboard).</summary>
    public IReadOnlyList<string> ApiUrls { get; init; } = ["http://127.0.0.1:0"];

    /// <summary>Serve the gate scanner page (<see cref="GateScanner"/>), through which a person shows a code to the run's gates.</summary>
    public bool ServeGateScanner { get; init; }

    /// <summary>How many issuers' riders ride (<see cref="SimulatedIssuers.Standard"/>): 1 is the operator's own app alone.</summary>
    public int Issuers { get; init; } = 1;
}

/// <summary>What happened on one played day.</summary>
public sealed record PlayedDay(DayPlan Plan, GateAnswer?[] Answers, string?[] Devices, long DenyListVersion, TimeSpan PlayTime, TimeSpan UploadTime, double Compression)
{
    /// <summary>Per tap, how long the rider waited (real time) for the gate to finish with earlier riders.</summary>
    public double[] QueueWaitMillis { get; init; } = [];

    public long Answered => Answers.Count(a => a is not null);
}

/// <summary>
/// A whole city on real processes: clearing (in this process) on PostgreSQL, one gate-agent child process per
/// device, registered with its own client certificate and uploading over mutual TLS, and riders with real
/// credentials from the issuer key. Plays service days through the gates' TCP inputs on a simulated clock, clears
/// them, and writes the ground truth.
/// </summary>
public sealed class CityRun : IAsyncDisposable
{
    private readonly SimulationSettings _settings;
    private readonly List<GateAgentProcess> _gates = [];
    private readonly Dictionary<string, List<GateAgentProcess>> _bySlot = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RiderPhone> _phones = new(StringComparer.Ordinal);
    private IReadOnlyList<Rider> _riders = [];
    private IReadOnlyList<SimulatedIssuer> _issuers = [];
    private GateAgentProcess[] _started = [];

    private CityRun(SimulationSettings settings, CityModel city)
    {
        _settings = settings;
        City = city;
        Zone = TimeZoneInfo.FindSystemTimeZoneById(city.TimeZone);
        Truth = new GroundTruth(settings.TruthFolder ?? Path.Combine(settings.DataFolder, "truth"));
    }

    public CityModel City { get; }

    public TimeZoneInfo Zone { get; }

    public GroundTruth Truth { get; }

    public RunningClearing Clearing { get; private set; } = null!;

    /// <summary>An admin bearer token of clearing's API, made for this run.</summary>
    public string AdminToken { get; private set; } = "";

    public string KeyDirectory => Path.Combine(_settings.DataFolder, "keys");

    /// <summary>The issuers whose riders ride, the operator's own first.</summary>
    public IReadOnlyList<SimulatedIssuer> Issuers => _issuers;

    /// <summary>The key directory of an issuer: the operator's own, or another issuer's under DATA/issuers.</summary>
    public string IssuerKeyDirectory(string issuerId) =>
        issuerId == IssuerIds.Home ? KeyDirectory : Path.Combine(_settings.DataFolder, "issuers", issuerId);

    /// <summary>The city's GTFS feed as clearing imported it.</summary>
    public string FeedFolder => Path.Combine(_settings.DataFolder, "feed");

    public IReadOnlyList<GateAgentProcess> Gates => _gates;

    /// <summary>The service days to play: from the first day given, or ending tomorrow at the latest (clearing flags taps more than two days ahead).</summary>
    public IReadOnlyList<DateOnly> Days
    {
        get
        {
            var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Zone).DateTime - TimeSpan.FromHours(4);
            var today = DateOnly.FromDateTime(local);
            var first = _settings.FirstDay ?? today.AddDays(-Math.Max(0, _settings.Days - 2));
            return [.. Enumerable.Range(0, _settings.Days).Select(first.AddDays)];
        }
    }

    /// <summary>The synthetic city, or the city of <c>--feed</c>, populated as the settings say.</summary>
    public static CityModel CityOf(SimulationSettings settings)
    {
        try
        {
            return settings.FeedDirectory is null ? CityModel.SyntheticWith(settings.Population) : CityModel.FromFeed(settings.FeedDirectory, settings.Population);
        }
        catch (InvalidDataException ex)
        {
            throw new SimulationException($"--feed: {ex.Message}");
        }
    }

    /// <summary>Creates keys and feed, starts clearing and the gates, and issues every rider's credential.</summary>
    public static async Task<CityRun> StartAsync(SimulationSettings settings, SimulationProgress progress, CancellationToken cancellation)
    {
        var city = CityOf(settings);
        var run = new CityRun(settings, city);
        try
        {
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, run.Zone).DateTime);
            if (run.Days[^1] > today.AddDays(1) || run.Days[0] < today.AddDays(-365))
            {
                // Clearing files taps more than two days ahead of (or a year behind) its clock under today, as clock-suspect.
                throw new SimulationException($"the days {run.Days[0]:yyyy-MM-dd} to {run.Days[^1]:yyyy-MM-dd} must lie between a year ago and tomorrow");
            }

            await run.InitAsync(progress, cancellation);
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    private async Task InitAsync(SimulationProgress progress, CancellationToken cancellation)
    {
        var setup = progress.Begin("keys, feed, clearing and PostgreSQL", 3);
        Directory.CreateDirectory(_settings.DataFolder);
        var keys = OperatorKeyDirectory.Init(KeyDirectory, SignatureAlgorithm.P256, operatorName: "Transit simulation");
        var feed = FeedFolder;
        City.WriteFeed(feed);
        setup.Add();
        Clearing = await RunningClearing.StartAsync(
            new ClearingOptions
            {
                ConnectionString = _settings.ConnectionString,
                DataFolder = _settings.DataFolder,
                KeyDirectory = KeyDirectory,
                DevicePort = 0,
                DeviceAddress = "127.0.0.1",
                TimeZone = City.TimeZone,
                MaximumFares = new Dictionary<string, long>(City.MaximumFares),
                Payments = { Latency = TimeSpan.FromMilliseconds(50) },
            },
            _settings.ApiUrls,
            // The scanner lists the gates once all have started; until then it lists none.
            map: _settings.ServeGateScanner ? app => app.MapGateScanner(() => Volatile.Read(ref _started)) : null,
            cancellation: cancellation);
        setup.Add();
        await Clearing.Services.GetRequiredService<GtfsImporter>().ImportAsync(feed, new DateOnly(2000, 1, 1), cancellation);
        AdminToken = await Clearing.Services.GetRequiredService<TokenStore>().CreateAsync(Roles.Admin, null, "transit sim", cancellation);
        // Before the gates start, so that their first sync brings every accepted issuer's trust.
        await RegisterIssuersAsync(cancellation);
        setup.Finish(_issuers.Count == 1 ? City.Name : $"{City.Name}, {_issuers.Count} issuers");

        var slots = City.Slots
            .SelectMany(s => Enumerable.Range(1, s.Mode == "bus" ? _settings.BusesPerRoute : _settings.GatesPerStation).Select(n => (Slot: s, Id: DeviceId(s, n))))
            .ToList();
        var gates = progress.Begin("gate agents started", slots.Count);
        var registry = Clearing.Services.GetRequiredService<DeviceRegistry>();
        var configs = new List<(DeviceSlot Slot, string Id, string Config, string Log)>();
        foreach (var (slot, id) in slots)
        {
            var folder = Path.Combine(_settings.DataFolder, "gates", id);
            var (_, certificate, key) = await registry.AddAsync(
                new DeviceRegistration(id, slot.OperatorId, slot.Mode, slot.StationId, slot.FirstStopId, slot.RouteId), folder, cancellation);
            configs.Add((slot, id, WriteGateConfig(folder, keys, Clearing.DeviceUrl, slot, id, certificate, key), Path.Combine(folder, "agent.log")));
        }

        // A few at a time: every agent compiles its code at start, and the machine may have two cores.
        using var starting = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount));
        await Task.WhenAll(configs.Select(async c =>
        {
            await starting.WaitAsync(cancellation);
            try
            {
                var gate = await GateAgentProcess.StartAsync(_settings.Gate, c.Slot, c.Id, c.Config, c.Log, cancellation);
                lock (_gates)
                {
                    _gates.Add(gate);
                }

                gates.Add();
            }
            finally
            {
                starting.Release();
            }
        }));
        _gates.Sort((a, b) => string.CompareOrdinal(a.DeviceId, b.DeviceId));
        foreach (var gate in _gates)
        {
            (_bySlot.TryGetValue(gate.Slot.Key, out var list) ? list : _bySlot[gate.Slot.Key] = []).Add(gate);
        }

        Volatile.Write(ref _started, [.. _gates]);
        gates.Finish($"{_gates.Count} on {City.Slots.Count} slots");

        var riders = progress.Begin("rider credentials issued", _settings.Riders);
        _riders = SimulatedIssuers.Assign(City.Riders(_settings.Riders, _settings.Seed), _issuers, _settings.Seed);
        IssueCredentials(keys, riders);
        Truth.WriteRiders(_riders, a => _phones[a].CredentialId);
        Truth.WriteGates(_gates);
    }

    /// <summary>Plays one service day: deny list to the gates, every planned tap at its simulated time, uploads drained.</summary>
    /// <param name="compression">Overrides the settings' compression; infinity plays every tap at once (as fast as the gates go).</param>
    public async Task<PlayedDay> PlayDayAsync(DateOnly date, SimulationProgress progress, CancellationToken cancellation, double? compression = null)
    {
        var keys = OperatorKeyDirectory.Open(KeyDirectory);
        var issuerKeys = _issuers.Skip(1).ToDictionary(i => i.Id, i => OperatorKeyDirectory.Open(IssuerKeyDirectory(i.Id)), StringComparer.Ordinal);
        var denied = keys.DenyList.Accounts.Concat(issuerKeys.Values.SelectMany(k => k.DenyList.Accounts)).ToHashSet(StringComparer.Ordinal);
        var plan = City.PlanDay(_riders, date, _settings.Seed, denied);
        var sync = progress.Begin($"{date:yyyy-MM-dd}: deny list to the gates", _gates.Count);
        // Each issuer blocks only its own riders: the operator's list takes the home riders, each other issuer's its own.
        var blockedByIssuer = plan.Riders.Where(r => r.Planted == Planted.Blocked).ToLookup(r => r.Issuer, r => r.Account, StringComparer.Ordinal);
        keys.UpdateDenyList(addAccounts: blockedByIssuer[IssuerIds.Home]);
        await RelayIssuerDenyListsAsync(issuerKeys, blockedByIssuer, cancellation);
        var version = OperatorKeyDirectory.Open(KeyDirectory).DenyList.Version;
        await Task.WhenAll(_gates.Select(async g =>
        {
            var held = await g.SyncAsync(cancellation);
            if (held < version)
            {
                throw new SimulationException($"gate {g.DeviceId} holds deny list v{held} after its sync, not v{version}", 1);
            }

            sync.Add();
        }));
        sync.Finish($"v{version}, {blockedByIssuer.Sum(g => g.Count()):N0} accounts");

        var taps = plan.Taps;
        var answers = new GateAnswer?[taps.Count];
        var devices = new string?[taps.Count];
        var play = progress.Begin($"{date:yyyy-MM-dd}: taps answered", taps.Count);
        foreach (var gate in _gates)
        {
            gate.Answered = (work, answer) =>
            {
                answers[work.Index] = answer;
                play.Add();
            };
        }

        var instants = taps.Select(t => Utc(t.At)).ToArray();
        var timeline = PlayTimeline(instants);
        compression ??= _settings.Compression ?? Math.Max(1, timeline[^1] / Math.Max(1, _settings.DayDuration.TotalSeconds));
        var waits = new double[taps.Count];
        var shown = new string?[taps.Count];
        var previous = PreviousTapOfRider(taps);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < taps.Count; i++)
        {
            var tap = taps[i];
            var due = TimeSpan.FromSeconds(timeline[i] / compression.Value);
            var ahead = due - watch.Elapsed;
            if (ahead > TimeSpan.FromMilliseconds(2))
            {
                play.Detail = $"{tap.At:HH:mm} simulated, ×{compression:N0}";
                await Task.Delay(ahead, cancellation);
            }

            var candidates = _bySlot[tap.DeviceKey];
            var gate = candidates[(int)(StableHash(tap.Account) % (uint)candidates.Count)];
            devices[i] = gate.DeviceId;
            var phone = _phones[tap.Account];
            var codeTime = instants[i].AddSeconds(-tap.CodeAgeSeconds);
            var index = i;
            gate.Enqueue(new GateWork(i, tap, instants[i], () =>
            {
                // How long the rider waited in front of the gate: the agent was still busy with earlier riders.
                waits[index] = Math.Max(0, (watch.Elapsed - due).TotalMilliseconds);
                // A replay shows the code of the rider's tap before it, which went to this same gate (so it was shown
                // first), whatever the phone showed elsewhere since.
                return shown[index] = tap.RepeatOfPrevious
                    ? shown[previous[index]] ?? throw new InvalidOperationException($"tap {index} replays tap {previous[index]}, which was not shown yet")
                    : phone.Show(codeTime);
            }));
        }

        await Task.WhenAll(_gates.Select(g => g.DrainedAsync(cancellation)));
        var playTime = watch.Elapsed;
        play.Finish($"{playTime.TotalSeconds:N0} s at ×{compression:N0}");

        var upload = progress.Begin($"{date:yyyy-MM-dd}: taps uploaded to clearing", Math.Max(1, answers.Count(a => a is not null)));
        var uploadWatch = Stopwatch.StartNew();
        await Task.WhenAll(_gates.Select(g => g.TriggerUploadAsync(cancellation)));
        var lastProgress = Stopwatch.StartNew();
        for (var acknowledgedBefore = -1L; ;)
        {
            var healths = await Task.WhenAll(_gates.Select(g => g.HealthAsync(cancellation)));
            var highest = healths.Sum(h => h.GetProperty("highestSequence").GetInt64());
            var acknowledged = healths.Sum(h => h.GetProperty("acknowledgedSequence").GetInt64());
            upload.Set(Math.Max(0, upload.Total - (highest - acknowledged)));
            if (acknowledged == highest)
            {
                break;
            }

            if (acknowledged != acknowledgedBefore)
            {
                (acknowledgedBefore, lastProgress) = (acknowledged, Stopwatch.StartNew());
            }
            else if (lastProgress.Elapsed > TimeSpan.FromMinutes(2))
            {
                var stuck = healths.Where(h => h.GetProperty("journalBacklog").GetInt64() > 0)
                    .Select(h => $"{h.GetProperty("deviceId").GetString()} (backlog {h.GetProperty("journalBacklog").GetInt64()}: {string.Join("; ", h.GetProperty("problems").EnumerateArray().Select(p => p.GetString()))})");
                throw new SimulationException($"uploads made no progress for 2 minutes: {string.Join(", ", stuck)}; see the gates' agent.log", 1);
            }

            await Task.Delay(250, cancellation);
        }

        upload.Finish($"{uploadWatch.Elapsed.TotalSeconds:N1} s after the last tap");
        var day = new PlayedDay(plan, answers, devices, version, playTime, uploadWatch.Elapsed, compression.Value) { QueueWaitMillis = waits };
        Truth.WriteDay(day, Utc);
        return day;
    }

    /// <summary>
    /// Each other issuer blocks its own riders: it signs its new deny list and hands it to clearing, which relays it to
    /// the gates of the operators accepting that issuer (they fetch it at the sync that follows).
    /// </summary>
    private async Task RelayIssuerDenyListsAsync(
        Dictionary<string, OperatorKeyDirectory> issuerKeys, ILookup<string, string> blocked, CancellationToken cancellation)
    {
        var lists = Clearing.Services.GetRequiredService<IssuerDenyLists>();
        foreach (var (issuerId, keys) in issuerKeys)
        {
            if (keys.UpdateDenyList(addAccounts: blocked[issuerId]) is null)
            {
                continue;
            }

            var outcome = await lists.AcceptAsync(issuerId, await File.ReadAllTextAsync(keys.DenyListPath, cancellation), cancellation);
            if (outcome is not IssuerDenyListOutcome.Stored)
            {
                throw new SimulationException($"clearing did not take issuer {issuerId}'s deny list v{keys.DenyList.Version}: {outcome}", 1);
            }
        }
    }

    /// <summary>Closes, prices, charges and settles the day now (clearing's job queue, run here).</summary>
    public async Task<(string Text, bool Balanced)> ClearDayAsync(DateOnly date, SimulationProgress progress, CancellationToken cancellation)
    {
        var step = progress.Begin($"{date:yyyy-MM-dd}: clearing (journeys, fares, charges, settlement)", 1);
        var result = await DayRun.RunAsync(Clearing.Services, date, cancellation);
        step.Finish(result.Balanced ? "books balance" : "BOOKS DO NOT BALANCE");
        return result;
    }

    /// <summary>Stops every gate agent, then clearing and its embedded PostgreSQL.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Task.WhenAll(_gates.Select(g => g.DisposeAsync().AsTask()));
        }
        finally
        {
            _gates.Clear();
            foreach (var phone in _phones.Values)
            {
                phone.Dispose();
            }

            Truth.Dispose();
            if (Clearing is not null)
            {
                await Clearing.DisposeAsync();
            }
        }
    }

    public DateTimeOffset Utc(DateTime local) => new(TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), Zone), TimeSpan.Zero);

    /// <summary>For each tap, the index of the same rider's tap before it in the plan (-1 for the first).</summary>
    private static int[] PreviousTapOfRider(IReadOnlyList<PlannedTap> taps)
    {
        var previous = new int[taps.Count];
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < taps.Count; i++)
        {
            previous[i] = last.GetValueOrDefault(taps[i].Account, -1);
            last[taps[i].Account] = i;
        }

        return previous;
    }

    /// <summary>Longest stretch without taps that is played in compressed time; longer ones (night, midday) are skipped.</summary>
    private static readonly TimeSpan IdleSkippedAfter = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Simulated seconds from the first tap to each tap, with idle stretches cut to <see cref="IdleSkippedAfter"/>:
    /// compression then spreads the busy hours over the play time rather than the quiet ones.
    /// </summary>
    private static double[] PlayTimeline(DateTimeOffset[] instants)
    {
        var timeline = new double[Math.Max(1, instants.Length)];
        for (var i = 1; i < instants.Length; i++)
        {
            var gap = instants[i] - instants[i - 1];
            timeline[i] = timeline[i - 1] + Math.Min(gap.TotalSeconds, IdleSkippedAfter.TotalSeconds);
        }

        return timeline;
    }

    /// <summary>Device ids say where a device stands: <c>CEN-in-1</c>, <c>CEN-out-1</c>, <c>bus-B1-2</c>.</summary>
    private static string DeviceId(DeviceSlot slot, int n) => slot.Mode switch
    {
        "metro-entry" => $"{slot.StationId}-in-{n}",
        "metro-exit" => $"{slot.StationId}-out-{n}",
        _ => $"bus-{slot.RouteId}-{n}",
    };

    /// <summary>
    /// Writes <c>gate.json</c> of a simulated gate in <paramref name="folder"/>: its trust files copied beside it, the
    /// TCP simulation input, simulated hardware and the manual clock; uploads to <paramref name="deviceUrl"/>.
    /// </summary>
    public static string WriteGateConfig(string folder, OperatorKeyDirectory keys, Uri deviceUrl, DeviceSlot slot, string id, string certificate, string key)
    {
        var trust = Path.Combine(folder, "trust");
        Directory.CreateDirectory(trust);
        foreach (var file in new[] { keys.RootPublicKeyPath, keys.KeySetPath, keys.DenyListPath, keys.CaCertificatePath })
        {
            File.Copy(file, Path.Combine(trust, Path.GetFileName(file)), overwrite: true);
        }

        var config = new JsonObject
        {
            ["Device"] = new JsonObject
            {
                ["Id"] = id, ["OperatorId"] = slot.OperatorId, ["Mode"] = slot.Mode, ["StationId"] = slot.StationId,
                ["RouteId"] = slot.RouteId, ["StopId"] = slot.FirstStopId,
            },
            ["Trust"] = new JsonObject { ["RootPublicKey"] = "trust/root.pub.json", ["KeySet"] = "trust/keyset.json", ["DenyList"] = "trust/denylist.json" },
            ["Clearing"] = new JsonObject
            {
                ["Url"] = new Uri(deviceUrl, "device/v1/").ToString(),
                ["ClientCertificate"] = certificate,
                ["ClientKey"] = key,
                ["ServerCaCertificate"] = "trust/ca.crt.pem",
                ["UploadDelayMillis"] = 250,
                ["SyncIntervalSeconds"] = 60,
                ["StatusIntervalSeconds"] = 10,
                ["BackoffInitialMillis"] = 200,
                ["BackoffMaxMillis"] = 5000,
            },
            ["Journal"] = new JsonObject { ["Path"] = "journal.db" },
            ["Scanner"] = new JsonObject { ["Tcp"] = new JsonObject { ["Port"] = 0 } },
            ["Status"] = new JsonObject { ["Port"] = 0 },
            ["Hardware"] = new JsonObject { ["Kind"] = "simulated", ["BarrierOpenMillis"] = 100, ["RefusalShowMillis"] = 100 },
            ["Simulation"] = new JsonObject { ["Clock"] = "manual" },
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
        };
        var path = Path.Combine(folder, "gate.json");
        File.WriteAllText(path, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>
    /// Most service days one run plays: each rider gets one credential covering the day before the first and the day
    /// after the last, and verifiers refuse credentials valid longer than <see cref="VerifierOptions.DefaultMaxCredentialValidity"/>.
    /// </summary>
    public static int MaxDays => (int)VerifierOptions.DefaultMaxCredentialValidity.TotalDays - 2;

    /// <summary>
    /// Creates each other issuer's key directory (as that issuer would, elsewhere), registers its root and key set with
    /// clearing, and has every operator of the city accept it from the day before the first played day, at its fee.
    /// </summary>
    private async Task RegisterIssuersAsync(CancellationToken cancellation)
    {
        _issuers = SimulatedIssuers.Standard(_settings.Issuers);
        var registry = Clearing.Services.GetRequiredService<IssuerRegistry>();
        var operators = City.Slots.Select(s => s.OperatorId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var issuer in _issuers.Skip(1))
        {
            var keys = OperatorKeyDirectory.Init(
                IssuerKeyDirectory(issuer.Id), issuer.Algorithm == "sm2" ? SignatureAlgorithm.Sm2 : SignatureAlgorithm.P256, operatorName: issuer.Name, issuerId: issuer.Id);
            await registry.AddAsync(
                await File.ReadAllTextAsync(keys.RootPublicKeyPath, cancellation), keys.RootPublicKeyPath,
                await File.ReadAllTextAsync(keys.KeySetPath, cancellation), keys.KeySetPath, issuer.Name, cancellation);
            foreach (var operatorId in operators)
            {
                await registry.AcceptAsync(operatorId, issuer.Id, Days[0].AddDays(-1), null, issuer.FeeBasisPoints!.Value, cancellation);
            }
        }
    }

    private void IssueCredentials(OperatorKeyDirectory keys, ProgressStep step)
    {
        var signers = _issuers.ToDictionary(
            i => i.Id, i => (i.Id == IssuerIds.Home ? keys : OperatorKeyDirectory.Open(IssuerKeyDirectory(i.Id))).OpenIssuingKey(), StringComparer.Ordinal);
        using var forger = SigningKey.Generate(signers[IssuerIds.Home].PrivateKey.Algorithm);
        var nextIssuer = _issuers.Select((issuer, n) => (issuer.Id, Next: _issuers[(n + 1) % _issuers.Count].Id)).ToDictionary(p => p.Id, p => p.Next, StringComparer.Ordinal);
        try
        {
            var days = Days;
            var notBefore = new DateTimeOffset(days[0].ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(-1);
            var validity = TimeSpan.FromDays(days.Count + 2);
            foreach (var rider in _riders)
            {
                var (issuerKey, issuer) = signers[rider.Issuer];
                // A forger of the operator's codes knows the issuer's key id but not its private key; a forger of another
                // issuer's codes signs with a different issuer's real key, which the claimed issuer's trust must not take.
                var signer = rider.Planted != Planted.Forged ? issuer
                    : rider.Issuer == IssuerIds.Home ? forger
                    : signers[nextIssuer[rider.Issuer]].PrivateKey;
                _phones[rider.Account] = new RiderPhone(PhoneCredential.Issue(
                    signer, issuerKey.KeyId, rider.Account, rider.Category, notBefore, validity, rider.Issuer == IssuerIds.Home ? null : rider.Issuer));
                step.Add();
            }
        }
        finally
        {
            foreach (var (_, key) in signers.Values)
            {
                key.Dispose();
            }
        }

        step.Finish(_issuers.Count == 1
            ? $"{_riders.Count:N0} riders"
            : $"{_riders.Count:N0} riders: {string.Join(", ", _issuers.Select(i => $"{i.Id} {_riders.Count(r => r.Issuer == i.Id):N0}"))}");
    }

    private static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return hash;
    }

    /// <summary>A rider's phone: its credential and the codes it signs, each with the next counter value.</summary>
    public sealed class RiderPhone(PhoneCredential credential) : IDisposable
    {
        private readonly Lock _lock = new();
        private int _counter;

        public string CredentialId => credential.Credential.CredentialIdText;

        public string Show(DateTimeOffset at)
        {
            lock (_lock)
            {
                return credential.Show(at, unchecked((byte)_counter++)).ToText();
            }
        }

        public void Dispose() => credential.Dispose();
    }
}
