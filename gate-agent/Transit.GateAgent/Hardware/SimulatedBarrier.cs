namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedBarrier(SimulatedHardwareLog log) : IBarrier
{
    public void Open() => log.Record("barrier:open");

    public void Close() => log.Record("barrier:close");

    public void Dispose()
    {
    }
}
