namespace Transit.GateAgent.Hardware;

internal sealed class SimulatedDisplay(SimulatedHardwareLog log, ITextDisplay inner) : ITextDisplay
{
    public void Show(string text)
    {
        log.Record("display:" + text);
        inner.Show(text);
    }

    public void Dispose() => inner.Dispose();
}
