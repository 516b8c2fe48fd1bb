namespace Transit.GateAgent.Hardware;

/// <summary>A one-line text display for riders.</summary>
public interface ITextDisplay : IDisposable
{
    /// <summary>Shows <paramref name="text"/>.</summary>
    void Show(string text);
}
