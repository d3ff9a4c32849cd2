-- A privacy firewall in the style of switchAILocal's pii_redactor example: redacts email addresses
-- and phone numbers in the user's messages before they leave for a provider.
--   plugins:
--     - use: ./examples/plugins/pii-redactor
--       config: { placeholder_email: "[EMAIL REDACTED]", placeholder_phone: "[PHONE REDACTED]" }
local Plugin = {}

local email_mark = config.placeholder_email or "[EMAIL REDACTED]"
local phone_mark = config.placeholder_phone or "[PHONE REDACTED]"

local function redact_pii(text)
  local original = text
  text = string.gsub(text, "[%w%.%-_]+@[%w%.%-_]+%.%w+", email_mark)
  text = string.gsub(text, "%(%d%d%d%)%s*%d%d%d%-%d%d%d%d", phone_mark) -- (555) 123-4567
  text = string.gsub(text, "%+%d+%s+%d+%s+%d+%s+%d+", phone_mark)       -- +1 555 123 4567
  text = string.gsub(text, "%d%d%d%-%d%d%d%-%d%d%d%d", phone_mark)       -- 555-123-4567
  text = string.gsub(text, "%d%d%d%-%d%d%d%d", phone_mark)               -- 555-1234
  if text ~= original then switchyard.log("PII redacted") end
  return text
end

function Plugin:on_request(req)
  local changed = false
  for _, message in ipairs(req.messages) do
    if message.role == "user" then
      local content = message.content
      if type(content) == "string" then
        local redacted = redact_pii(content)
        if redacted ~= content then message.content, changed = redacted, true end
      elseif type(content) == "table" then
        for _, part in ipairs(content) do
          if part.type == "text" then
            local redacted = redact_pii(part.text)
            if redacted ~= part.text then part.text, changed = redacted, true end
          end
        end
      end
    end
  end
  if changed then return req end
  return nil
end

return Plugin
