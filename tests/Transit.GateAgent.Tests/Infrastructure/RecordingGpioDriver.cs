using System.Collections.Concurrent;
using System.Device.Gpio;
using System.Globalization;

namespace Transit.GateAgent.Tests.Infrastructure;

/// <summary>
/// A GPIO chip in memory that records every request and line change, in order (as dotnet/iot's own driver tests
/// do with their mockable driver): <c>17 out Low</c> for a line requested as an output at Low, <c>17=High</c> for
/// a write, <c>17 closed</c> for a release.
/// </summary>
internal sealed class RecordingGpioDriver(int lines) : GpioDriver
{
    private readonly ConcurrentQueue<string> _changes = new();
    private readonly ConcurrentDictionary<int, PinValue> _values = new();

    /// <summary>Every request and change so far, oldest first.</summary>
    public IReadOnlyList<string> Changes => [.. _changes];

    /// <summary>Lines whose request fails as if another program held them.</summary>
    public HashSet<int> Busy { get; } = [];

    /// <summary>Whether the controller disposed the driver (released the chip).</summary>
    public bool Disposed { get; private set; }

    /// <summary>The level <paramref name="line"/> is at now.</summary>
    public PinValue Level(int line) => _values[line];

    protected override int PinCount => lines;

    protected override void OpenPin(int pinNumber)
    {
    }

    protected override void ClosePin(int pinNumber) => _changes.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{pinNumber} closed"));

    protected override void SetPinMode(int pinNumber, PinMode mode) => SetPinMode(pinNumber, mode, PinValue.Low);

    protected override void SetPinMode(int pinNumber, PinMode mode, PinValue initialValue)
    {
        if (Busy.Contains(pinNumber))
        {
            throw new IOException("Device or resource busy");
        }

        _values[pinNumber] = initialValue;
        _changes.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{pinNumber} {(mode == PinMode.Output ? "out" : mode.ToString())} {initialValue}"));
    }

    protected override PinMode GetPinMode(int pinNumber) => PinMode.Output;

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => mode == PinMode.Output;

    protected override PinValue Read(int pinNumber) => _values[pinNumber];

    protected override void Write(int pinNumber, PinValue value)
    {
        _values[pinNumber] = value;
        _changes.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{pinNumber}={value}"));
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        throw new NotSupportedException("outputs only");

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback) =>
        throw new NotSupportedException("outputs only");

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback) =>
        throw new NotSupportedException("outputs only");

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}
