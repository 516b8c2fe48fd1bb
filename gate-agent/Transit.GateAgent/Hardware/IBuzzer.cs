namespace Transit.GateAgent.Hardware;

/// <summary>The buzzer.</summary>
public interface IBuzzer : IDisposable
{
    /// <summary>Sounds <paramref name="beep"/> without blocking the caller.</summary>
    void Sound(Beep beep);
}
