using System.Buffers.Binary;
using System.Text;

namespace Transit.GateAgent.Scanners;

/// <summary>
/// Turns Linux <c>struct input_event</c> records from a keyboard-mode scanner into text with a US layout: key
/// presses become characters, Shift and Caps Lock are tracked, Enter ends a code. Covers every character of the
/// ride-code alphabet (Base45: digits, A–Z, space and <c>$%*+-./:</c>).
/// </summary>
public sealed class KeyboardDecoder
{
    /// <summary><c>EV_KEY</c>.</summary>
    public const ushort EvKey = 1;

    private const int KeyEnter = 28;
    private const int KeyKpEnter = 96;
    private const int KeyLeftShift = 42;
    private const int KeyRightShift = 54;
    private const int KeyCapsLock = 58;

    private static readonly Dictionary<int, (char Plain, char Shifted)> Keys = BuildKeys();

    private readonly StringBuilder _code = new();
    private readonly byte[] _partial = new byte[EventSize];
    private int _partialLength;
    private bool _leftShift;
    private bool _rightShift;
    private bool _capsLock;

    /// <summary>
    /// Size of <c>struct input_event</c>: a <c>struct timeval</c> of two longs, then type, code (16 bits) and value
    /// (32 bits): 24 bytes on 64-bit boards, 16 on 32-bit ARM.
    /// </summary>
    public static int EventSize { get; } = (2 * IntPtr.Size) + 8;

    /// <summary>Feeds raw bytes read from the event device (any split); returns the codes completed by Enter.</summary>
    public List<string> Feed(ReadOnlySpan<byte> data)
    {
        var codes = new List<string>();
        while (data.Length > 0)
        {
            var take = Math.Min(EventSize - _partialLength, data.Length);
            data[..take].CopyTo(_partial.AsSpan(_partialLength));
            _partialLength += take;
            data = data[take..];
            if (_partialLength == EventSize)
            {
                _partialLength = 0;
                var record = _partial.AsSpan(2 * IntPtr.Size);
                var code = Key(BinaryPrimitives.ReadUInt16LittleEndian(record), BinaryPrimitives.ReadUInt16LittleEndian(record[2..]), BinaryPrimitives.ReadInt32LittleEndian(record[4..]));
                if (code is not null)
                {
                    codes.Add(code);
                }
            }
        }

        return codes;
    }

    /// <summary>Handles one event; returns a code when it was Enter after some characters.</summary>
    public string? Key(ushort type, ushort code, int value)
    {
        if (type != EvKey)
        {
            return null;
        }

        switch (code)
        {
            case KeyLeftShift:
                _leftShift = value != 0;
                return null;
            case KeyRightShift:
                _rightShift = value != 0;
                return null;
        }

        // Only presses type: releases (0) change nothing and auto-repeat (2) does not come from scanners.
        if (value != 1)
        {
            return null;
        }

        if (code == KeyCapsLock)
        {
            _capsLock = !_capsLock;
            return null;
        }

        if (code is KeyEnter or KeyKpEnter)
        {
            if (_code.Length == 0)
            {
                return null;
            }

            var text = _code.ToString();
            _code.Clear();
            return text;
        }

        if (Keys.TryGetValue(code, out var key) && _code.Length < LineAssembler.MaxLine)
        {
            var shift = _leftShift || _rightShift;
            var c = shift ? key.Shifted : key.Plain;
            if (char.IsAsciiLetter(c) && _capsLock)
            {
                c = shift ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c);
            }

            _code.Append(c);
        }

        return null;
    }

    /// <summary>Forgets a partial code and the modifier state.</summary>
    public void Reset()
    {
        _code.Clear();
        _partialLength = 0;
        _leftShift = _rightShift = false;
    }

    /// <summary>The key code and Shift state that type <paramref name="c"/> (for tests and simulators).</summary>
    public static bool TryGetKey(char c, out ushort code, out bool shift)
    {
        foreach (var (k, (plain, shifted)) in Keys)
        {
            if (plain == c || shifted == c)
            {
                code = (ushort)k;
                shift = plain != c;
                return true;
            }
        }

        code = 0;
        shift = false;
        return false;
    }

    private static Dictionary<int, (char, char)> BuildKeys()
    {
        var keys = new Dictionary<int, (char, char)>();
        void Row(int first, string plain, string shifted)
        {
            for (var i = 0; i < plain.Length; i++)
            {
                keys[first + i] = (plain[i], shifted[i]);
            }
        }

        Row(2, "1234567890-=", "!@#$%^&*()_+");
        Row(16, "qwertyuiop[]", "QWERTYUIOP{}");
        Row(30, "asdfghjkl;'`", "ASDFGHJKL:\"~");
        Row(43, "\\zxcvbnm,./", "|ZXCVBNM<>?");
        keys[57] = (' ', ' ');

        // The numeric keypad, which some scanners use for digits.
        keys[55] = ('*', '*');
        keys[71] = ('7', '7');
        keys[72] = ('8', '8');
        keys[73] = ('9', '9');
        keys[74] = ('-', '-');
        keys[75] = ('4', '4');
        keys[76] = ('5', '5');
        keys[77] = ('6', '6');
        keys[78] = ('+', '+');
        keys[79] = ('1', '1');
        keys[80] = ('2', '2');
        keys[81] = ('3', '3');
        keys[82] = ('0', '0');
        keys[83] = ('.', '.');
        keys[98] = ('/', '/');
        return keys;
    }
}
