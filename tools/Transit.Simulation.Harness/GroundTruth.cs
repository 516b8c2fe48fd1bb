using System.Globalization;
using Transit.Simulation;

namespace Transit.Simulation.Harness;

/// <summary>
/// The ground truth of a simulation run, as CSV files in one folder (docs/simulation.md): the riders and what was
/// planted in their days, their true legs, every planned tap with the gate's answer, the deny list of each day, the
/// gates. End-to-end checks compare clearing's database with these files.
/// </summary>
public sealed class GroundTruth : IDisposable
{
    private const string Time = "yyyy-MM-ddTHH:mm:ss.fffZ";

    private readonly StreamWriter _legs;
    private readonly StreamWriter _taps;
    private readonly StreamWriter _blocked;
    private readonly StreamWriter _days;

    public GroundTruth(string folder)
    {
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(Folder);
        _legs = Open("legs.csv", "day,account,journey,mode,route,from,to,start,end,taps_out");
        _taps = Open("taps.csv", "day,index,planned_at,device_key,device_id,stop,account,expected,forged,repeat,code_age,seq,accepted,reason,latency_ms,gate_at");
        _blocked = Open("blocked.csv", "day,account");
        _days = Open("days.csv", "day,planned_taps,answered,deny_list_version,blocked,play_seconds,upload_seconds,compression");
    }

    public string Folder { get; }

    public void WriteRiders(IEnumerable<Rider> riders, Func<string, string> credentialId)
    {
        using var file = Open("riders.csv", "account,category,kind,home,work,planted,credential_id,segment,issuer");
        foreach (var r in riders)
        {
            file.WriteLine($"{r.Account},{r.Category},{r.Kind},{r.HomeStop},{r.WorkStop},{r.Planted},{credentialId(r.Account)},{r.Segment},{r.Issuer}");
        }
    }

    public void WriteGates(IEnumerable<GateAgentProcess> gates)
    {
        using var file = Open("gates.csv", "device_id,slot,operator,mode,station,route");
        foreach (var g in gates)
        {
            file.WriteLine($"{g.DeviceId},{g.Slot.Key},{g.Slot.OperatorId},{g.Slot.Mode},{g.Slot.StationId},{g.Slot.RouteId}");
        }
    }

    public void WriteDay(PlayedDay day, Func<DateTime, DateTimeOffset> utc)
    {
        var date = day.Plan.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        foreach (var leg in day.Plan.Legs)
        {
            _legs.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{date},{leg.Account},{leg.JourneyIndex},{leg.Mode},{leg.RouteId},{leg.FromStop},{leg.ToStop},{utc(leg.Start).ToString(Time, CultureInfo.InvariantCulture)},{utc(leg.End).ToString(Time, CultureInfo.InvariantCulture)},{(leg.TapsOut ? 1 : 0)}"));
        }

        for (var i = 0; i < day.Plan.Taps.Count; i++)
        {
            var tap = day.Plan.Taps[i];
            var answer = day.Answers[i];
            _taps.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{date},{i},{utc(tap.At).ToString(Time, CultureInfo.InvariantCulture)},{tap.DeviceKey},{day.Devices[i]},{tap.StopId},{tap.Account},{tap.ExpectedReason},{(tap.Forged ? 1 : 0)},{(tap.RepeatOfPrevious ? 1 : 0)},{tap.CodeAgeSeconds},{answer?.Seq},{(answer is null ? "" : answer.Accepted ? "1" : "0")},{answer?.Reason},{answer?.LatencyMs:0.###},{answer?.GateAt.ToString(Time, CultureInfo.InvariantCulture)}"));
        }

        var blocked = day.Plan.BlockedAccounts.ToList();
        foreach (var account in blocked)
        {
            _blocked.WriteLine($"{date},{account}");
        }

        _days.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{date},{day.Plan.Taps.Count},{day.Answered},{day.DenyListVersion},{blocked.Count},{day.PlayTime.TotalSeconds:F1},{day.UploadTime.TotalSeconds:F1},{day.Compression:F1}"));
        foreach (var writer in new[] { _legs, _taps, _blocked, _days })
        {
            writer.Flush();
        }
    }

    public void Dispose()
    {
        _legs.Dispose();
        _taps.Dispose();
        _blocked.Dispose();
        _days.Dispose();
    }

    private StreamWriter Open(string name, string header)
    {
        var writer = new StreamWriter(Path.Combine(Folder, name)) { NewLine = "\n" };
        writer.WriteLine(header);
        return writer;
    }
}
