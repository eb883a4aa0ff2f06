// Shared by the HUD and partner pages. A WebSocket refused at its handshake looks to a
// page like a network drop (the browser hides the status): the same address asked over
// plain HTTP says why (404: no such session; 401/403: the token). Resolves true, after
// showing why with setStatus(text, "error"), when retrying cannot help; false (retry)
// when the server cannot be reached or refused for another reason.
"use strict";

window.hudSocketRefused = async (socketUrl, session, setStatus, prefix = "") => {
  try {
    const response = await fetch(socketUrl.replace(/^ws/, "http"));
    if (![401, 403, 404].includes(response.status)) return false;
    const answer = await response.json().catch(() => ({}));
    setStatus(response.status === 404 && session
      ? `${prefix}no such session: ${session} (its stream has ended, or never began)`
      : answer.error || `refused (${response.status})`, "error");
    return true;
  } catch (error) {
    return false;
  }
};
