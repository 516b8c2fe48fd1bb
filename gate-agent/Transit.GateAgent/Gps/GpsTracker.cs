using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Transit.GateAgent.Configuration;
using Transit.GateAgent.Trust;

namespace Transit.GateAgent.Gps;

/// <summary>The GPS part of <c>GET /health</c>.</summary>
public sealed record GpsHealth(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("stopId")] string? StopId,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("lastFixAgeSeconds")] double? LastFixAgeSeconds,
    [property: JsonPropertyName("sentences")] long Sentences,
    [property: JsonPropertyName("rejected")] long Rejected);

/// <summary>
/// Follows the receiver's sentences: positions go through the <see cref="StopSnapper"/>, and each arrival sets the
/// tap's stop in <see cref="GateState"/>. Between arrivals the stop in force stays, so one the driver console set
/// holds until the bus arrives at a stop. A lost fix or silence keeps the stop and reports the GPS degraded.
/// </summary>
public sealed class GpsTracker(StopSnapper snapper, GateState state, TimeSpan fixTimeout, TimeProvider time, ILogger logger)
{
    private readonly Lock _lock = new();
    private long? _lastFixTimestamp;
    private string _lostReason = "no position received yet";
    private long _sentences;
    private long _rejected;

    /// <summary>Builds the tracker from settings; reads the stop file.</summary>
    /// <exception cref="Configuration.GateConfigurationException">The stops are unusable.</exception>
    public static GpsTracker Create(GpsSettings settings, GateState state, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var snapper = new StopSnapper(settings.LoadStops(), settings.SnapMeters, settings.LeaveMeters);
        return new GpsTracker(snapper, state, TimeSpan.FromSeconds(settings.FixTimeoutSeconds), time, logger);
    }

    /// <summary>Takes one line from the receiver.</summary>
    public void Accept(string line)
    {
        if (!Nmea.TryParse(line, out var sentence, out var error))
        {
            Interlocked.Increment(ref _rejected);
            logger.LogDebug("GPS line ignored: {Reason}", error);
            return;
        }

        Interlocked.Increment(ref _sentences);
        lock (_lock)
        {
            switch (sentence.Fix)
            {
                case NmeaFix.Lost:
                    if (_lastFixTimestamp is not null)
                    {
                        logger.LogWarning("GPS fix lost ({Type}); keeping stop {Stop}", sentence.Type, state.Context.StopId);
                    }

                    _lastFixTimestamp = null;
                    _lostReason = $"receiver reports no fix ({sentence.Type})";
                    break;
                case NmeaFix.Valid:
                    _lastFixTimestamp = time.GetTimestamp();
                    if (snapper.Update(sentence.Latitude, sentence.Longitude, state.Context.RouteId) is { } arrival)
                    {
                        state.SetStopFromGps(arrival);
                    }

                    break;
            }
        }
    }

    /// <summary>Whether the GPS gives positions now, and the stop it last snapped to.</summary>
    public GpsHealth Health()
    {
        lock (_lock)
        {
            double? age = _lastFixTimestamp is { } last ? time.GetElapsedTime(last).TotalSeconds : null;
            var reason = age switch
            {
                null => _lostReason,
                _ when age > fixTimeout.TotalSeconds => $"no position for {age:F0} s",
                _ when !snapper.Serves(state.Context.RouteId) => $"no stops known for route {state.Context.RouteId}",
                _ => null,
            };
            return new GpsHealth(reason is null ? "ok" : "degraded", snapper.HeldStopId, reason, age is null ? null : Math.Round(age.Value, 1),
                Interlocked.Read(ref _sentences), Interlocked.Read(ref _rejected));
        }
    }
}
