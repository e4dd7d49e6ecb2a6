// Mounts the rasa-webchat widget (served from this project) on the page.
// The server issues the session id, signed; the widget stores it and sends it back unchanged,
// so a reload continues the same conversation and nobody can claim someone else's. The server
// may send a new one at any time (a renewal, a new session after "delete my data" or after the
// session expired); the widget stores whatever it is sent last. After an erasure the widget
// would still show and store the erased conversation: see forgetErasedConversation below.
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

  // After "delete my data" (in this page or another tab) the server sends "conversation_erased"
  // just before the new session (bot/channels/socketio.py). The widget keeps the erased
  // conversation in its storage and on screen; once the bot's last lines of this turn are drawn
  // and stored, keep only what came after the person's last message (the confirmation, or the
  // note), then draw the page again from that, so nobody at this screen can scroll back to it.
  var STORE_KEY = "chat_session"; // the widget's own key
  var QUIET_MS = 1500; // no change to the stored conversation for this long: the turn is drawn
  var GIVE_UP_MS = 20000; // a turn still being drawn after this long: clear it anyway
  var store = config.storage === "local" ? window.localStorage : window.sessionStorage;
  var forgetting = null;

  function keepOnlyTheLastAnswers() {
    var session;
    try {
      session = JSON.parse(store.getItem(STORE_KEY));
    } catch (error) {
      session = null;
    }
    if (!session || !Array.isArray(session.conversation)) {
      store.removeItem(STORE_KEY);
      return;
    }
    var last = -1;
    for (var i = 0; i < session.conversation.length; i++) {
      if (session.conversation[i] && session.conversation[i].sender === "client") {
        last = i;
      }
    }
    session.conversation = session.conversation.slice(last + 1);
    store.setItem(STORE_KEY, JSON.stringify(session));
  }

  function forgetErasedConversation() {
    if (forgetting !== null) {
      return;
    }
    var started = Date.now();
    var changed = started;
    var seen = store.getItem(STORE_KEY);
    forgetting = setInterval(function () {
      var now = store.getItem(STORE_KEY);
      if (now !== seen) {
        seen = now;
        changed = Date.now();
        return;
      }
      if (Date.now() - changed >= QUIET_MS || Date.now() - started >= GIVE_UP_MS) {
        clearInterval(forgetting);
        keepOnlyTheLastAnswers();
        window.location.reload();
      }
    }, 250);
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
      onSocketEvent: { conversation_erased: forgetErasedConversation },
      // A short pause that grows a little with length: easier to follow than a burst.
      customMessageDelay: function (message) {
        return Math.min(1200, 250 + (message || "").length * 4);
      },
    },
    mount
  );

  // The widget draws its answer buttons as plain <div>s with a click handler, leaves the send
  // button and the scrolling message list without a name and announces nothing. We cannot change
  // its bundle, so we mend what it draws, each time it draws.
  var announcer = document.getElementById("chat-announcer");
  var ANNOUNCED = 12; // the log keeps the last few; a screen reader reads each new one once

  function activateOnKey(event) {
    if (event.key !== "Enter" && event.key !== " ") {
      return;
    }
    event.preventDefault();
    event.currentTarget.click();
    // A chosen reply may vanish with the focus on it: give the focus back to the message box.
    var input = mount.querySelector(".rw-new-message");
    if (input) {
      input.focus();
    }
  }

  function mendButtons() {
    var replies = mount.querySelectorAll("div.rw-reply:not([role])");
    for (var i = 0; i < replies.length; i++) {
      replies[i].setAttribute("role", "button");
      replies[i].setAttribute("tabindex", "0");
      replies[i].addEventListener("keydown", activateOnKey);
    }
    var groups = mount.querySelectorAll(".rw-replies:not([role])");
    for (var g = 0; g < groups.length; g++) {
      groups[g].setAttribute("role", "group");
      groups[g].setAttribute("aria-label", "Answers you can choose");
    }
  }

  function mendControls() {
    var send = mount.querySelector(".rw-send:not([aria-label])");
    if (send) {
      send.setAttribute("aria-label", "Send");
    }
    var input = mount.querySelector(".rw-new-message:not([aria-label])");
    if (input) {
      input.setAttribute("aria-label", "Your message");
    }
    var list = mount.querySelector(".rw-messages-container:not([tabindex])");
    if (list) {
      // Focusable so a keyboard can scroll back through the conversation.
      list.setAttribute("tabindex", "0");
      list.setAttribute("role", "region");
      list.setAttribute("aria-label", "Conversation");
    }
  }

  // What a screen reader hears for a message: its text, or for a picture its description
  // (the <img>'s alt, set by mendImages just before).
  function spoken(message) {
    var img = message.querySelector("img.rw-image-frame");
    if (img) {
      return img.getAttribute("alt") || "";
    }
    return message.innerText || message.textContent;
  }

  function announceNewMessages() {
    // Texts and pictures together, in the order they appear in the conversation.
    var fresh = mount.querySelectorAll(
      ".rw-message:not(.rw-typing-indication) .rw-response:not([data-sb-announced]), " +
        ".rw-message .image:not([data-sb-announced])"
    );
    if (fresh.length === 0) {
      return;
    }
    for (var i = 0; i < fresh.length; i++) {
      fresh[i].setAttribute("data-sb-announced", "");
    }
    // A reload redraws the whole conversation at once: read out only its last message.
    var from = fresh.length > 3 ? fresh.length - 1 : 0;
    for (var j = from; j < fresh.length; j++) {
      var line = document.createElement("p");
      line.textContent = spoken(fresh[j]);
      announcer.appendChild(line);
    }
    while (announcer.childNodes.length > ANNOUNCED) {
      announcer.removeChild(announcer.firstChild);
    }
  }

  // The widget scrolls to its newest message as it draws it, while a picture has no height yet:
  // the picture then grows below the fold. When the conversation was at its end before the
  // picture grew, keep it at its end (someone who scrolled back to read stays where they are).
  var AT_END = 80; // px: "at the end", allowing for margins and the typing indicator it replaced

  function keepEndInView(img) {
    var list = mount.querySelector(".rw-messages-container");
    if (!list) {
      return;
    }
    var grown = img.getBoundingClientRect().height;
    var before = list.scrollHeight - grown - list.clientHeight - list.scrollTop;
    if (before <= AT_END) {
      list.scrollTop = list.scrollHeight;
    }
  }

  function keepEndInViewOnLoad(event) {
    keepEndInView(event.currentTarget);
  }

  // The widget draws an image's title as bold text above an <img> without alt. The server sends
  // a picture's description as that title (bot/channels/socketio.py): it becomes the alt text,
  // and page.css hides the visible copy.
  function mendImages() {
    var images = mount.querySelectorAll("img.rw-image-frame:not([alt])");
    for (var i = 0; i < images.length; i++) {
      var box = images[i].closest(".image");
      var title = box ? box.querySelector(".rw-image-title") : null;
      var described = title && title.textContent.trim();
      images[i].setAttribute("alt", described || "A picture from Secure Base");
      if (images[i].complete) {
        keepEndInView(images[i]);
      } else {
        images[i].addEventListener("load", keepEndInViewOnLoad, { once: true });
      }
    }
  }

  function mend() {
    mendButtons();
    mendControls();
    mendImages();
    announceNewMessages();
  }

  new MutationObserver(mend).observe(mount, { childList: true, subtree: true });
  mend();
})();
