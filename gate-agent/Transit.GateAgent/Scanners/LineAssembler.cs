using System.Text;

namespace Transit.GateAgent.Scanners;

/// <summary>Splits a byte stream into lines at CR or LF; empty lines (the LF of a CRLF) are dropped.</summary>
public sealed class LineAssembler
{
    /// <summary>Longer lines are cut here; they are not ride codes and are refused as malformed.</summary>
    public const int MaxLine = 4096;

    private readonly StringBuilder _line = new();

    /// <summary>Feeds bytes; returns the lines they completed.</summary>
    public List<string> Feed(ReadOnlySpan<byte> data)
    {
        var lines = new List<string>();
        foreach (var b in data)
        {
            if (b is (byte)'\r' or (byte)'\n')
            {
                if (_line.Length > 0)
                {
                    lines.Add(_line.ToString());
                    _line.Clear();
                }
            }
            else if (_line.Length < MaxLine)
            {
                _line.Append((char)b);
            }
        }

        return lines;
    }

    /// <summary>Drops a partial line.</summary>
    public void Reset() => _line.Clear();
}
