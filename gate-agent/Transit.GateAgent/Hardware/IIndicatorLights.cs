namespace Transit.GateAgent.Hardware;

/// <summary>The indicator lights.</summary>
public interface IIndicatorLights : IDisposable
{
    /// <summary>Shows <paramref name="light"/> (and nothing else).</summary>
    void Show(Light light);
}
