using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Transit.RideCodes;
using Transit.RideCodes.KeyStore;
using Transit.Clearing.Hosting;

namespace Transit.Clearing.Tests;

/// <summary>A refused start of clearing on the embedded cluster stops the PostgreSQL it started.</summary>
[Trait("Category", "Database")]
public sealed class StartupTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "transit-startup-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public async Task Start_WithABadKeyDirectory_LeavesNoPostgresRunning()
    {
        var badKeys = Directory.CreateDirectory(Path.Combine(_folder, "not-keys")).FullName;

        var refused = await Assert.ThrowsAsync<KeyDirectoryException>(() => RunningClearing.StartAsync(Options(badKeys), ["http://127.0.0.1:0"]));

        Assert.Contains("not-keys", refused.Message, StringComparison.Ordinal);
        AssertNoPostgres();
    }

    [Fact]
    public async Task Start_WithTheDevicePortInUse_StopsThePostgresItStarted()
    {
        var keys = OperatorKeyDirectory.Init(Path.Combine(_folder, "keys"), SignatureAlgorithm.P256);
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var options = Options(keys.Path);
        options.DevicePort = ((IPEndPoint)taken.LocalEndpoint).Port;

        await Assert.ThrowsAnyAsync<IOException>(() => RunningClearing.StartAsync(options, ["http://127.0.0.1:0"]));

        Assert.True(File.Exists(Path.Combine(_folder, "pg", "data", "PG_VERSION")), "the cluster was never created: the test proves nothing");
        AssertNoPostgres();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A folder left in the temp directory is harmless.
        }
    }

    private ClearingOptions Options(string keyDirectory) => new()
    {
        DataFolder = _folder,
        KeyDirectory = keyDirectory,
        DevicePort = 0,
        DeviceAddress = "127.0.0.1",
        RunJobs = false,
    };

    private void AssertNoPostgres()
    {
        var pidFile = Path.Combine(_folder, "pg", "data", "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return;
        }

        var pid = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
        bool alive;
        try
        {
            using var process = Process.GetProcessById(pid);
            alive = !process.HasExited;
        }
        catch (ArgumentException)
        {
            alive = false;
        }

        Assert.False(alive, $"PostgreSQL (pid {pid}) still runs on {_folder} after the refused start");
        Assert.Fail($"{pidFile} is left behind");
    }
}
