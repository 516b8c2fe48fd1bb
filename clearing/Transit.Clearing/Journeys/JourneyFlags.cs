namespace Transit.Clearing.Journeys;

/// <summary>Bits of <c>journeys.flags</c> and <c>journey_legs.flags</c>.</summary>
[Flags]
public enum JourneyFlags
{
    None = 0,
    MissingEntry = 1,
    MissingExit = 2,
    Unpriced = 4,
    Capped = 8,
}
