// A stand-in for NinjaTrader 8's NinjaTrader.Client.dll, compiled by the tests with Mono's mcs.
//
// It has the real assembly's namespace, class name and public method signatures (the ones
// NinjaTrader documents under "DLL Interface > Functions"), so that the plugin loads and calls
// it through pythonnet exactly as it does the real one. Where the real DLL talks NinjaTrader's
// binary ATI protocol to port 36973, this one sends one line per call to the tests' simulated
// platform (tests/fakes/ninjatrader_ati.py): "COMMAND\t<13 fields>" and
// "SUBSCRIBE\t<instrument>\t<1|0>" (answered with nothing: the real Command returns 0 once the
// command is written), and "GET\t<key>", answered with the value the server last pushed.
//
// How the real client behaves, as far as public ports of it show (the DLL Interface pages
// document only the signatures and return codes): it answers reads from values the server
// pushes; while it is not connected it answers "" and 0, as for an order or position that does
// not exist; after a failed connection it waits 10 seconds before it tries again, answering ""
// and 0 meanwhile; and SetUp shows a MessageBox when it cannot connect. Here the wait is
// NINJATRADER_FAKE_RECONNECT_SECONDS when set (tests), and the MessageBox is counted in
// DialogsShown instead of shown. All of this is unconfirmed against the real DLL.
using System;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Text;

namespace NinjaTrader.Client
{
    public interface IClient
    {
        double AvgEntryPrice(string instrument, string account);
        double AvgFillPrice(string orderId);
        int Command(string command, string account, string instrument, string action,
            int quantity, string orderType, double limitPrice, double stopPrice,
            string timeInForce, string oco, string orderId, string strategy, string strategyId);
        int ConfirmOrders(int confirm);
        int Connected(int showMessage);
        int Filled(string orderId);
        double MarketData(string instrument, int type);
        int MarketPosition(string instrument, string account);
        string NewOrderId();
        string Orders(string account);
        string OrderStatus(string orderId);
        int SetUp(string host, int port);
        int SubscribeMarketData(string instrument);
        int TearDown();
        int UnsubscribeMarketData(string instrument);
    }

    public sealed class Client : IClient, IDisposable
    {
        private string host = "127.0.0.1";
        private int port = 36973;
        private TcpClient socket;
        private StreamReader reader;
        private StreamWriter writer;
        private readonly object gate = new object();
        private DateTime retryAt = DateTime.MinValue;
        private static readonly double ReconnectSeconds = ReadReconnectSeconds();

        /// <summary>Message boxes the real client would have shown (a test hook).</summary>
        public static int DialogsShown;

        private static double ReadReconnectSeconds()
        {
            string text = Environment.GetEnvironmentVariable("NINJATRADER_FAKE_RECONNECT_SECONDS");
            double seconds;
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) ? seconds : 10.0;
        }

        public int SetUp(string host, int port)
        {
            lock (gate)
            {
                this.host = host;
                this.port = port;
                Close();
                retryAt = DateTime.MinValue;
                if (Open()) return 0;
                DialogsShown++;  // the real client: MessageBox.Show("Unable to connect ...")
                return -1;
            }
        }

        public int Connected(int showMessage)
        {
            return Ask("GET\tATI") == "True" ? 0 : -1;
        }

        private int Send(string line)
        {
            lock (gate)
            {
                if (!Usable()) return -1;
                try
                {
                    writer.Write(line + "\n");
                    writer.Flush();
                    return 0;
                }
                catch (IOException)
                {
                    Lost();
                    return -1;
                }
            }
        }

        public int Command(string command, string account, string instrument, string action,
            int quantity, string orderType, double limitPrice, double stopPrice,
            string timeInForce, string oco, string orderId, string strategy, string strategyId)
        {
            string fields = string.Join(";", new string[] {
                command, account, instrument, action,
                quantity.ToString(CultureInfo.InvariantCulture), orderType,
                limitPrice.ToString(CultureInfo.InvariantCulture),
                stopPrice.ToString(CultureInfo.InvariantCulture),
                timeInForce, oco, orderId, strategy, strategyId });
            return Send("COMMAND\t" + fields);
        }

        public string OrderStatus(string orderId) { return Get("OrderStatus|" + orderId); }
        public int Filled(string orderId) { return GetInt("Filled|" + orderId); }
        public double AvgFillPrice(string orderId) { return GetDouble("AvgFillPrice|" + orderId); }
        public string Orders(string account) { return Get("Orders|" + account); }
        public int ConfirmOrders(int confirm) { return 0; }

        public int MarketPosition(string instrument, string account)
        {
            return GetInt("MarketPosition|" + instrument + "|" + account);
        }

        public double AvgEntryPrice(string instrument, string account)
        {
            return GetDouble("AvgEntryPrice|" + instrument + "|" + account);
        }

        public double MarketData(string instrument, int type)
        {
            return GetDouble("MarketData|" + instrument + "|" + type.ToString(CultureInfo.InvariantCulture));
        }

        public int SubscribeMarketData(string instrument)
        {
            return Send("SUBSCRIBE\t" + instrument + "\t1");
        }

        public int UnsubscribeMarketData(string instrument)
        {
            return Send("SUBSCRIBE\t" + instrument + "\t0");
        }

        public string NewOrderId() { return Guid.NewGuid().ToString("N").ToUpperInvariant(); }

        public int TearDown()
        {
            lock (gate) { Close(); }
            return 0;
        }

        public void Dispose() { TearDown(); }

        private string Get(string key) { return Ask("GET\t" + key) ?? string.Empty; }

        private int GetInt(string key)
        {
            int value;
            return int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out value) ? value : 0;
        }

        private double GetDouble(string key)
        {
            double value;
            return double.TryParse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture, out value) ? value : 0.0;
        }

        private string Ask(string line)
        {
            lock (gate)
            {
                if (!Usable()) return null;
                try
                {
                    writer.Write(line + "\n");
                    writer.Flush();
                    string answer = reader.ReadLine();
                    if (answer == null) Lost();
                    return answer;
                }
                catch (IOException)
                {
                    Lost();
                    return null;
                }
            }
        }

        private bool Usable()
        {
            if (socket != null) return true;
            if (DateTime.UtcNow < retryAt) return false;
            if (Open()) return true;
            retryAt = DateTime.UtcNow.AddSeconds(ReconnectSeconds);
            return false;
        }

        private void Lost()
        {
            Close();
            retryAt = DateTime.UtcNow.AddSeconds(ReconnectSeconds);
        }

        private bool Open()
        {
            try
            {
                socket = new TcpClient(host, port);
                NetworkStream stream = socket.GetStream();
                reader = new StreamReader(stream, new UTF8Encoding(false));
                writer = new StreamWriter(stream, new UTF8Encoding(false));
                return true;
            }
            catch (SocketException)
            {
                socket = null;
                return false;
            }
        }

        private void Close()
        {
            if (socket != null) socket.Close();
            socket = null;
            reader = null;
            writer = null;
        }
    }
}
