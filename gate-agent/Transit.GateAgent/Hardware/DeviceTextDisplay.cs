namespace Transit.GateAgent.Hardware;

/// <summary>A character display on a TTY or a file: one line per message.</summary>
internal sealed class DeviceTextDisplay : ITextDisplay
{
    private readonly StreamWriter _writer;

    public DeviceTextDisplay(string device)
    {
        try
        {
            // Append mode would seek, which a TTY cannot: open, and seek only what is seekable (a log file).
            var stream = new FileStream(device, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
            if (stream.CanSeek)
            {
                stream.Seek(0, SeekOrigin.End);
            }

            _writer = new StreamWriter(stream) { AutoFlush = true };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new HardwareException($"Hardware:DisplayDevice {device} cannot be opened: {ex.Message}", ex);
        }
    }

    public void Show(string text)
    {
        try
        {
            _writer.WriteLine(text);
        }
        catch (IOException)
        {
            // A display that went away must not stop the gate; the decision is journaled and the barrier works.
        }
    }

    public void Dispose() => _writer.Dispose();
}
