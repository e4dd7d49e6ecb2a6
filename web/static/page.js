// Mounts the rasa-webchat widget (served from this project) on the page.
// The server issues the session id, signed; the widget stores it and sends it back unchanged,
// so a reload continues the same conversation and nobody can claim someone else's. The server
// may send a new one at any time (a renewal, a new session after "delete my data" or after the
// session expired); the widget stores whatever it is sent last, so nothing is needed here.
(function () {
  "use strict";
  var config = window.SECURE_BASE_CONFIG || {};
  var status = document.getElementById("chat-status");
  var mount = document.getElementById("webchat");

  if (!window.WebChat || typeof window.WebChat.default !== "function") {
    status.textContent = "The chat could not load. The crisis lines above always work.";
    status.hidden = false;
    return;
  }

  window.WebChat.default(
    {
      socketUrl: config.socketUrl || "http://localhost:5005",
      socketPath: config.socketPath || "/socket.io/",
      initPayload: "/greet",
      title: "Secure Base",
      subtitle: "Self-help, not therapy",
      inputTextFieldHint: "Type a message...",
      connectingText: "Connecting...",
      embedded: true,
      showCloseButton: false,
      hideWhenNotConnected: false,
      withRules: false,
      params: { storage: config.storage || "session" },
      // A short pause that grows a little with length: easier to follow than a burst.
      customMessageDelay: function (message) {
        return Math.min(1200, 250 + (message || "").length * 4);
      },
    },
    mount
  );
})();
