/**
 * The console page users open: `vnc_lite.html`, named and parameterised like noVNC's own lite page
 * (which the npm package does not ship), so access URLs keep Nova's shape
 * (`/vnc_lite.html?path=%3Ftoken%3D...`). Its script and style are separate files, so the page
 * runs under a Content-Security-Policy with no inline code at all. The script connects noVNC's RFB
 * client (served from @novnc/novnc) to this proxy and shows what it reports in `#status`.
 * Must never send the token anywhere but this page's own origin: the socket URL is built relative
 * to the page, so a crafted `path` cannot point it at another host.
 */

export const CONSOLE_PAGE_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nimbus console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app/console.css">
<script type="module" src="app/console.js"></script>
</head>
<body>
<div id="noVNC_status_bar">
<div id="status">Loading</div>
<button id="sendCtrlAltDelButton" type="button">Send Ctrl-Alt-Del</button>
</div>
<div id="screen"></div>
</body>
</html>
`;

export const CONSOLE_PAGE_CSS = `html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; background-color: dimgrey; }
#noVNC_status_bar {
  position: relative;
  background-color: #6e84a3;
  color: white;
  font: bold 12px Helvetica, Arial, sans-serif;
  padding: 6px 5px 4px 5px;
  border-bottom: 1px outset;
}
#status { text-align: center; }
#sendCtrlAltDelButton { position: absolute; top: 2px; right: 4px; cursor: pointer; }
#screen { flex: 1; overflow: hidden; }
`;

export const CONSOLE_PAGE_SCRIPT = `// Connects noVNC to this proxy with the token the access URL carries (path=?token=...).
import RFB from '../core/rfb.js';

const statusLine = document.getElementById('status');
const status = (text) => {
  statusLine.textContent = text;
};

const path = new URLSearchParams(window.location.search).get('path') ?? '';
// Relative to this page: whatever the path says, the socket goes to this page's own origin.
const socketUrl = new URL('./' + path.replace(/^[/\\\\]+/, ''), window.location.href);
const encrypted = window.location.protocol === 'https:';
socketUrl.protocol = encrypted ? 'wss:' : 'ws:';
socketUrl.hash = '';

let desktopName = '';
status('Connecting');
const rfb = new RFB(document.getElementById('screen'), socketUrl.href, { shared: true });
rfb.scaleViewport = true;
rfb.addEventListener('desktopname', (event) => {
  desktopName = event.detail.name;
});
rfb.addEventListener('connect', () => {
  status('Connected (' + (encrypted ? 'encrypted' : 'unencrypted') + ') to: ' + desktopName);
});
rfb.addEventListener('disconnect', (event) => {
  status(event.detail.clean ? 'Disconnected' : 'Something went wrong, connection is closed');
});
rfb.addEventListener('credentialsrequired', () => {
  status('The console asks for a password, which Nimbus never sets');
  rfb.disconnect();
});
rfb.addEventListener('securityfailure', (event) => {
  status('Security failure: ' + (event.detail.reason || event.detail.status));
});
document.getElementById('sendCtrlAltDelButton').addEventListener('click', () => {
  rfb.sendCtrlAltDel();
});
`;
