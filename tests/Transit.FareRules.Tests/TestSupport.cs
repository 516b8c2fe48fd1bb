using System.Globalization;

namespace Transit.FareRules.Tests;

/// <summary>Paths of the repository's test feeds and of the shared real feeds.</summary>
internal static class Paths
{
    public static string Root => Repository.Root;

    /// <summary>tests/data/gtfs/NAME of this repository.</summary>
    public static string TestFeed(string name) => Path.Combine(Root, "tests", "data", "gtfs", name);

    /// <summary>tests/data/gtfs/NAME: the real feeds kept with the tests (zakroczym, mbta-fares).</summary>
    public static string RealFeed(string name)
    {
        var path = TestFeed(name);
        Assert.True(Directory.Exists(path), $"real feed {path} is missing");
        return path;
    }
}

/// <summary>
/// Small in-memory feeds: a base of one agency (America/New_York), routes rA (network netA), rB (netB), rC (netC),
/// rM (network metro, route_type 1), rN (no network), stops s1..s6, stations st1..st3 with platforms p1a, p1b, p2a, p3a,
/// and services "all" (every day of 2024–2026) and "weekdays"; each test adds its fare files.
/// </summary>
internal static class Feeds
{
    /// <summary>Tuesday 1 October 2024, the day of most legs (EDT, UTC-4).</summary>
    public static readonly DateOnly Day = new(2024, 10, 1);

    private static readonly Dictionary<string, string> Base = new()
    {
        ["agency.txt"] = "agency_id,agency_name,agency_url,agency_timezone\nA,Agency,https://a.example,America/New_York\n",
        ["routes.txt"] = "route_id,agency_id,route_type,network_id\nrA,A,3,netA\nrB,A,3,netB\nrC,A,3,netC\nrM,A,1,metro\nrN,A,3,\n",
        ["stops.txt"] = """
            stop_id,stop_name,location_type,parent_station,stop_timezone
            s1,S1,0,,
            s2,S2,0,,
            s3,S3,0,,
            s4,S4,0,,
            s5,S5,0,,
            s6,S6,0,,
            st1,Station 1,1,,
            st2,Station 2,1,,
            st3,Station 3,1,,
            p1a,Station 1 platform a,0,st1,
            p1b,Station 1 platform b,0,st1,
            p2a,Station 2 platform a,0,st2,
            p3a,Station 3 platform a,0,st3,
            west,West,0,,America/Los_Angeles

            """,
        ["calendar.txt"] = """
            service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date
            all,1,1,1,1,1,1,1,20240101,20261231
            weekdays,1,1,1,1,1,0,0,20240101,20261231

            """,
    };

    /// <summary>The base feed plus <paramref name="files"/> (a file given replaces the base one).</summary>
    public static FareFeed Build(params (string File, string Text)[] files)
    {
        var all = new Dictionary<string, string>(Base);
        foreach (var (file, text) in files)
        {
            all[file] = text;
        }

        return FareFeed.FromFiles(all);
    }

    /// <summary>Like <see cref="Build"/>, and asserts that the feed has no error.</summary>
    public static FareFeed Valid(params (string File, string Text)[] files)
    {
        var feed = Build(files);
        Assert.False(feed.Report.HasErrors, string.Join("\n", feed.Report.Notices));
        return feed;
    }

    /// <summary>A leg on <see cref="Day"/> (or <paramref name="day"/>) between two local times HH:mm of New York.</summary>
    public static FareLeg Leg(string route, string? from, string? to, string start, string end, string? category = null, string? media = null, DateOnly? day = null) =>
        new(route, from, to, At(start, day), At(end, day), category, media);

    /// <summary>A New York local time HH:mm on <see cref="Day"/> (or <paramref name="day"/>).</summary>
    public static DateTimeOffset At(string time, DateOnly? day = null)
    {
        var local = (day ?? Day).ToDateTime(TimeOnly.ParseExact(time, "HH:mm", CultureInfo.InvariantCulture));
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>Minor units of a USD amount written as "2.40".</summary>
    public static long Usd(string amount) =>
        Currencies.TryParseAmount(amount, "USD", out var value, out var error) ? value : throw new ArgumentException(error);
}
