# %% [markdown]
# # report_card

# %%
print(1 + 1)
