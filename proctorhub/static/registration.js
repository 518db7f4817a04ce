/* LTI Dynamic Registration: open the tool's registration page in a window (the token is in its
   URL) and, when the tool posts {subject: "org.imsglobal.lti.close"}, close that window and show
   what came of the registration. Served as a file: the admin's pages carry no inline script. */
(function () {
  "use strict";
  var panel = document.getElementById("registration-launch");
  if (!panel) {
    return;
  }
  var redirectUrl = panel.getAttribute("data-redirect-url");
  var statusUrl = panel.getAttribute("data-status-url");
  var toolOrigin = new URL(redirectUrl).origin;
  var button = document.getElementById("open-tool");
  var blocked = document.getElementById("popup-blocked");
  var toolWindow = null;

  button.addEventListener("click", function () {
    toolWindow = window.open(redirectUrl, "lti-registration", "popup,width=960,height=720");
    if (!toolWindow) {
      blocked.hidden = false;
    }
  });

  window.addEventListener("message", function (event) {
    // Only the tool we opened may close the registration.
    if (event.origin !== toolOrigin || !toolWindow || event.source !== toolWindow) {
      return;
    }
    var data = event.data;
    if (typeof data === "string") {
      try { data = JSON.parse(data); } catch (ignored) { return; }
    }
    if (!data || data.subject !== "org.imsglobal.lti.close") {
      return;
    }
    toolWindow.close();
    window.location.assign(statusUrl);
  });
}());
