namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedBuzzer(SimulatedHardwareLog log) : IBuzzer
{
    public void Sound(Beep beep) => log.Record("buzzer:" + beep.ToString().ToLowerInvariant());

    public void Dispose()
    {
    }
}
