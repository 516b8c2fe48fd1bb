namespace Transit.GateAgent.Configuration;

/// <summary>Standard termios line speeds.</summary>
public static class SerialLineSpeeds
{
    private static readonly Dictionary<int, uint> Speeds = new()
    {
        [1200] = 0x9, [2400] = 0xB, [4800] = 0xC, [9600] = 0xD, [19200] = 0xE, [38400] = 0xF,
        [57600] = 0x1001, [115200] = 0x1002, [230400] = 0x1003, [460800] = 0x1004, [921600] = 0x1007,
    };

    /// <summary>The Linux <c>B*</c> constant for <paramref name="baud"/>.</summary>
    public static bool TryGet(int baud, out uint constant) => Speeds.TryGetValue(baud, out constant);
}
