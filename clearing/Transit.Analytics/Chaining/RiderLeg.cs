namespace Transit.Analytics.Chaining;

/// <summary>How a leg's destination is known.</summary>
public enum InferenceLevel : byte
{
    /// <summary>Not known: see <see cref="RiderLeg.Unresolved"/>.</summary>
    None = 0,

    /// <summary>Tapped out: at a metro exit gate, or a bus tap-off on the boarded route.</summary>
    Exact = 1,

    /// <summary>The stop of the route nearest the rider's next boarding (Barry et al., first assumption).</summary>
    NextBoarding = 2,

    /// <summary>The day's last leg, taken to return to the first leg's origin (Barry et al., second assumption).</summary>
    FirstOrigin = 3,
}

/// <summary>Why no destination could be inferred.</summary>
public enum Unresolved : byte
{
    None = 0,

    /// <summary>The rider's only boarding of the day: nothing to chain to.</summary>
    SingleBoarding,

    /// <summary>The stop or route is not in the feed, or the next origin is unknown.</summary>
    UnknownStop,

    /// <summary>No stop of the route after the boarding lies within walking distance of the next origin.</summary>
    TooFar,
}

/// <summary>The mode of a leg.</summary>
public enum LegMode : byte
{
    Metro = 1,
    Bus = 2,
}

/// <summary>One vehicle (bus) or paid-area (metro) leg of a rider's day, with its destination when known.</summary>
public sealed class RiderLeg
{
    public required long Rider { get; init; }

    public required DateOnly ServiceDay { get; init; }

    /// <summary>Order of the leg in the rider's day, from 0.</summary>
    public required int LegNo { get; init; }

    /// <summary>Journey the leg belongs to: legs joined by transfers share it.</summary>
    public int JourneyNo { get; set; }

    public required LegMode Mode { get; init; }

    public required string OperatorId { get; init; }

    /// <summary>
    /// The bus route; null for metro, whose taps do not say which line was ridden. A boarding that did not know its
    /// route takes its tap-off's, as clearing does.
    /// </summary>
    public string? RouteId { get; set; }

    public required string? Origin { get; init; }

    public required DateTimeOffset BoardedAt { get; init; }

    public string? Destination { get; set; }

    /// <summary>Exit or tap-off time when tapped, else the scheduled arrival at the inferred stop (bus); null when unknown.</summary>
    public DateTimeOffset? AlightedAt { get; set; }

    public InferenceLevel Level { get; set; }

    public Unresolved Unresolved { get; set; }

    public string? Category { get; init; }

    /// <summary>The pattern (stop path) the bus ran, when the direction is known.</summary>
    public string? PatternId { get; set; }

    /// <summary>The scheduled trip nearest the boarding time on that pattern.</summary>
    public string? TripId { get; set; }

    public int? BoardSequence { get; set; }

    public int? AlightSequence { get; set; }

    /// <summary>Seconds from the previous leg's end to this boarding when this leg is a transfer; null otherwise.</summary>
    public int? TransferSeconds { get; set; }

    public bool IsTransfer => TransferSeconds is not null;
}
