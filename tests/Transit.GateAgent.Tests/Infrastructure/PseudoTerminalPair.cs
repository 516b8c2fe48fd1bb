using System.Diagnostics;

namespace Transit.GateAgent.Tests.Infrastructure;

/// <summary>Two linked pseudo-terminals from socat: the agent opens <see cref="Device"/>, the test writes to <see cref="Feeder"/>.</summary>
public sealed class PseudoTerminalPair : IAsyncDisposable
{
    private readonly Process _socat;

    private PseudoTerminalPair(Process socat, string device, string feeder)
    {
        _socat = socat;
        Device = device;
        Feeder = feeder;
    }

    /// <summary>The side the agent reads, as a serial device would be.</summary>
    public string Device { get; }

    /// <summary>The side the test writes what the device would send.</summary>
    public string Feeder { get; }

    /// <summary>Starts socat with both links in <paramref name="directory"/> and waits until they exist.</summary>
    public static async Task<PseudoTerminalPair> StartAsync(string directory, string name)
    {
        var device = Path.Combine(directory, "tty" + name);
        var feeder = Path.Combine(directory, "tty" + name + "Feeder");
        var socat = Process.Start("socat", ["-d", $"pty,raw,echo=0,link={device}", $"pty,raw,echo=0,link={feeder}"])!;
        var pair = new PseudoTerminalPair(socat, device, feeder);
        try
        {
            await GateProcess.WaitUntilAsync(() => Task.FromResult(File.Exists(device) && File.Exists(feeder)), TimeSpan.FromSeconds(10), "socat's pseudo-terminals");
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socat.Kill();
        await _socat.WaitForExitAsync();
        _socat.Dispose();
    }
}
