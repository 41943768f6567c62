# %% [markdown]
# # text_tabular

# %%
print(1 + 1)
