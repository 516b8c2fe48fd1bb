namespace Transit.Cli.Tests;

/// <summary>What <c>transit sim</c> and <c>transit demo</c> refuse before starting anything (the runs themselves are in Transit.EndToEnd.Tests).</summary>
[Trait("Category", "Process")]
public sealed class SimCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "transit-sim-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("--riders", "0", "must be positive")]
    [InlineData("--buses", "-1", "must be positive")]
    [InlineData("--days", "0", "--days must be at least 1")]
    [InlineData("--days", "6", "--days may be at most 5")]
    [InlineData("--date", "2026-13-01", "is not a date")]
    [InlineData("--date", "2099-01-01", "must lie between a year ago and tomorrow")]
    public async Task Sim_BadSizeOrDate_UsageErrorNamingIt(string option, string value, string message)
    {
        var result = await CliProcess.RunAsync(["sim", "--data", _dir, option, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sim_FeedWithoutStopTimes_UsageErrorNamingTheFile()
    {
        var feed = Path.Combine(_dir, "feed");
        Directory.CreateDirectory(feed);
        Transit.Simulation.SyntheticCity.Write(feed);
        File.Delete(Path.Combine(feed, "stop_times.txt"));

        var result = await CliProcess.RunAsync(["sim", "--data", Path.Combine(_dir, "run"), "--feed", feed]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("stop_times.txt is missing", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_FolderNotMadeByARun_RefusedAndLeftAlone()
    {
        Directory.CreateDirectory(_dir);
        var precious = Path.Combine(_dir, "precious.txt");
        File.WriteAllText(precious, "keep me");

        var result = await CliProcess.RunAsync(["demo", "--dir", _dir, "--exit"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("was not made by 'transit sim' or 'transit demo'", result.Error, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(precious));
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
