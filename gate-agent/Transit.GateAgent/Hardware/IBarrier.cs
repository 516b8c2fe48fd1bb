namespace Transit.GateAgent.Hardware;

/// <summary>The barrier (metro gate flaps or turnstile lock) behind a relay.</summary>
public interface IBarrier : IDisposable
{
    /// <summary>Releases the barrier so one rider can pass.</summary>
    void Open();

    /// <summary>Locks the barrier again.</summary>
    void Close();
}
