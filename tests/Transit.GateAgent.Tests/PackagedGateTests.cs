using System.Diagnostics;
using System.Text.Json;
using Transit.Simulation.Harness.Bench;
using Transit.GateAgent.Tests.Infrastructure;
using Transit.RideCodes;

namespace Transit.GateAgent.Tests;

/// <summary>
/// The gate as it is shipped: the .deb that <c>gate-agent/deploy/build-package</c> makes, unpacked into a temporary
/// root, its <c>transit-gate</c> started natively (x64) and under <c>qemu-aarch64-static</c> (arm64), and put through
/// the gate's conformance checks.
/// </summary>
[Trait("Category", "Package")]
public sealed class PackagedGateTests(GatePackages packages) : IClassFixture<GatePackages>
{
    [Fact]
    public void Package_Contents_ExecutableUnitConffileUserAndLibraries()
    {
        var deb = packages.Build("x64");
        var info = Run("dpkg-deb", "--info", deb);
        Assert.Contains("Package: transit-gate", info);
        Assert.Contains("Architecture: amd64", info);
        var depends = info.Split('\n').Single(l => l.TrimStart().StartsWith("Depends:", StringComparison.Ordinal));
        foreach (var library in new[] { "libssl3", "libsqlite3-0", "libgpiod2", "zlib1g", "libc6" })
        {
            Assert.Contains(library, depends);
        }

        var contents = Run("dpkg-deb", "--contents", deb);
        foreach (var path in new[]
        {
            "./opt/transit-gate/transit-gate", "./lib/systemd/system/transit-gate.service", "./etc/transit-gate/appsettings.json",
            "./opt/transit-gate/transit-gate.dll", "./opt/transit-gate/Transit.GateAgent.dll", "./opt/transit-gate/libcoreclr.so",
        })
        {
            Assert.Contains(path, contents);
        }

        // A gate carries no server stack.
        Assert.DoesNotContain("Microsoft.AspNetCore", contents);
        Assert.DoesNotContain("Npgsql", contents);

        var control = packages.Control("x64");
        Assert.Equal("/etc/transit-gate/appsettings.json", File.ReadAllText(Path.Combine(control, "conffiles")).Trim());
        var postinst = File.ReadAllText(Path.Combine(control, "postinst"));
        Assert.Contains("adduser --system", postinst);
        Assert.Contains("transit-gate", postinst);

        var unit = File.ReadAllText(Path.Combine(packages.Root("x64"), "lib/systemd/system/transit-gate.service"));
        Assert.Contains("ExecStart=/opt/transit-gate/transit-gate run --config /etc/transit-gate/appsettings.json", unit);
        Assert.Contains("User=transit-gate", unit);

        // Workstation GC comes from the executable's own runtime settings, not from the unit's environment.
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(packages.Root("x64"), "opt/transit-gate/transit-gate.runtimeconfig.json")));
        Assert.False(runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").GetProperty("System.GC.Server").GetBoolean());
    }

    [Fact]
    public async Task Package_X64_UnpackedAgentPassesTheConformanceChecks()
    {
        var executable = Path.Combine(packages.Root("x64"), "opt/transit-gate/transit-gate");
        var ready = await GateConformance.RunAsync(GateLauncher.Native(executable));
        Assert.Equal(JsonValueKind.Number, ready.GetProperty("warmupMillis").ValueKind);
    }

    [Fact]
    public async Task Package_Arm64_UnderEmulationPassesTheConformanceChecks()
    {
        var emulator = GatePackageBuild.Which("qemu-aarch64-static")
            ?? throw new InvalidOperationException("qemu-aarch64-static is missing: run tools/setup/prerequisites (Debian: qemu-user-static and the :arm64 libraries)");
        var executable = Path.Combine(packages.Root("arm64"), "opt/transit-gate/transit-gate");
        Assert.Contains("ARM aarch64", Run("file", "-L", executable));
        var version = await GateLauncher.Emulated(emulator, executable).RunToEndAsync("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Contains("linux-arm64", version.Output);
        await GateConformance.RunAsync(GateLauncher.Emulated(emulator, executable));
    }

    private static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {error}");
        return output;
    }
}

/// <summary>
/// What every build of the gate must do, whatever it runs on: fresh codes accepted; replayed, stale, denied and
/// forged codes refused; hostile lines survived; a SIGKILL and a restart with the journal intact and in order.
/// </summary>
public static class GateConformance
{
    /// <summary>Runs the checks on a gate started by <paramref name="launcher"/>; returns its first ready line.</summary>
    public static async Task<JsonElement> RunAsync(GateLauncher launcher)
    {
        using var env = new GateEnvironment();
        env.Keys.UpdateDenyList(addAccounts: ["mallory"]);
        using var stranger = SigningKey.Generate(SignatureAlgorithm.P256);
        // Emulation starts a gate in tens of seconds: a code must stay fresh across the restart to be seen as replayed.
        var config = env.WriteConfig(change: c => c["Verification"]!["MaxAgeSeconds"] = 900);
        var now = GateEnvironment.Now();
        var alice = env.Rider("alice");
        var fresh = alice.Show(now, 0).ToText();
        var expected = new List<(string Code, string Reason)>
        {
            (fresh, "ok"),
            (fresh, "replayed"),
            (env.Rider("carol").Show(now.AddSeconds(-1800), 0).ToText(), "stale"),
            (env.Rider("mallory").Show(now, 0).ToText(), "denied"),
            (env.RiderSignedBy(stranger, 1, "forger").Show(now, 0).ToText(), "bad-issuer-signature"),
            (new string('A', 100_000), "malformed"),
            ("TR1:" + new string('$', 300), "malformed"),
            (env.Rider("bob").Show(now, 0).ToText(), "ok"),
        };

        JsonElement ready;
        var answers = new List<TapAnswer>();
        await using (var gate = await GateProcess.StartAsync(config, launcher: launcher))
        {
            ready = gate.Ready;
            using var client = gate.Connect();
            foreach (var (code, _) in expected)
            {
                answers.Add(await client.TapAsync(code));
            }

            // A power cut: no shutdown code runs.
            await gate.KillAsync();
        }

        Assert.Equal(expected.Select(e => e.Reason), answers.Select(a => a.Reason));
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), answers.Select(a => a.Seq));

        await using (var gate = await GateProcess.StartAsync(config, launcher: launcher))
        {
            Assert.Equal(expected.Count, gate.Ready.GetProperty("highestSequence").GetInt64());
            using var client = gate.Connect();
            var replay = await client.TapAsync(fresh);
            Assert.Equal(("replayed", expected.Count + 1L), (replay.Reason, replay.Seq));
            var dave = await client.TapAsync(env.Rider("dave").Show(GateEnvironment.Now(), 0).ToText());
            Assert.Equal(("ok", expected.Count + 2L), (dave.Reason, dave.Seq));
            Assert.Equal(0, await gate.TerminateAsync());
        }

        // The journal, read by the same build: every answered tap, in order, with its decision.
        var journal = await launcher.RunToEndAsync("journal", "--db", env.JournalPath);
        Assert.True(journal.ExitCode == 0, journal.Error);
        var rows = journal.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(1, expected.Count + 2).Select(i => (long)i), rows.Select(r => r.GetProperty("seq").GetInt64()));
        Assert.Equal(
            expected.Select(e => e.Reason).Concat(["replayed", "ok"]),
            rows.Select(r => r.GetProperty("reason").GetString()));
        return ready;
    }
}

/// <summary>Builds each architecture's .deb once per test run and unpacks it into a temporary root.</summary>
public sealed class GatePackages : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "transit-deb-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Dictionary<string, string> _debs = [];
    private readonly Lock _lock = new();

    public static string RepositoryRoot => Repository.Root;

    /// <summary>The package for <paramref name="arch"/> (arm64 or x64), built on first use.</summary>
    public string Build(string arch)
    {
        lock (_lock)
        {
            if (_debs.TryGetValue(arch, out var built))
            {
                return built;
            }

            // Packages built beforehand (gate-agent/deploy/build-package) may be named instead of built again.
            var deb = GatePackageBuild.FindOrBuildAsync(RepositoryRoot, arch, Path.Combine(_work, "packages"), CancellationToken.None).GetAwaiter().GetResult();
            return Unpack(arch, deb);
        }
    }

    /// <summary>The unpacked file system of the package for <paramref name="arch"/>.</summary>
    public string Root(string arch, bool build = true)
    {
        var root = Path.Combine(_work, "root-" + arch);
        if (build)
        {
            Build(arch);
        }

        return root;
    }

    /// <summary>The package's control files (control, conffiles, maintainer scripts).</summary>
    public string Control(string arch)
    {
        Build(arch);
        return Path.Combine(_work, "control-" + arch);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temporary-file cleaner.
        }
    }

    private string Unpack(string arch, string deb)
    {
        Extract("-x", deb, Root(arch, build: false));
        Extract("-e", deb, Path.Combine(_work, "control-" + arch));
        return _debs[arch] = deb;
    }

    private static void Extract(string mode, string deb, string target)
    {
        Directory.CreateDirectory(target);
        using var process = Process.Start("dpkg-deb", [mode, deb, target]);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dpkg-deb {mode} {deb} failed");
        }
    }
}
